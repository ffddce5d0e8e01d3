// bench/train_step's generation rows: the generation training step (backbone + velocity CNN + CFM loss + Adam) at
// the quickstart and medium shapes on wasm, with the velocity CNN's filter gradient on the column product (what
// training uses) and on the earlier image-as-filter convolution, beside PyTorch at 1 and 2 threads from the same
// run. Each row is given as a ratio to PyTorch at equal threads and to the matrix-product peak of this run.
import { installFastWasmKernels } from '../../sidecar/model/ops/install_wasm_kernels';
import { setFilterGradientMode, type FilterGradientMode } from '../../sidecar/model/ops/wasm_conv2d_gradients';
import { selectBackend } from '../../sidecar/runtime/backends';
import {
  cnnSeconds,
  generationStepFlops,
  mediumShape,
  quickstartShape,
  torchGenerationRates,
  trainingRate,
  type GenerationShape,
} from './generation_step';

interface GenerationRow {
  variant: string;
  threads: number;
  ms: number;
  cnnMs: number | null;
  gflops: number;
  ratioToTorch: number | null;
  ratioToPeak: number;
}

export interface GenerationFigures {
  shape: string;
  gflopPerStep: { backbone: number; cnn: number };
  rows: GenerationRow[];
  torch: { threads: number; ms: number; cnnMs: number }[];
  torchSkipped?: string;
  torchFailures: string[];
}

/** Measures the generation step at both shapes (quickstart only with `quick`); `peakGflops` from the same run. */
export async function generationRows(quick: boolean, peakGflops: number): Promise<GenerationFigures[]> {
  const out: GenerationFigures[] = [];
  for (const shape of quick ? [quickstartShape] : [quickstartShape, mediumShape])
    out.push(await measure(shape, quick, peakGflops));
  setFilterGradientMode('columns');
  return out;
}

async function measure(shape: GenerationShape, quick: boolean, peakGflops: number): Promise<GenerationFigures> {
  const flops = generationStepFlops(shape);
  const total = flops.backbone + flops.cnn;
  console.log(
    `\n(generation ${shape.name}) batch ${shape.batch} × ${shape.window} slices × ${(shape.n / shape.patchSize) ** 2} ` +
      `patches of ${shape.patchSize}², hidden ${shape.hidden}, ${shape.layers} blocks, CNN ${shape.cnn.channels}×${shape.cnn.blocks}: ` +
      `${(total / 1e9).toFixed(2)} GFLOP per step (backbone ${(flops.backbone / 1e9).toFixed(2)}, CNN ${(flops.cnn / 1e9).toFixed(2)})`,
  );
  await selectBackend('wasm');
  installFastWasmKernels();
  const steps = quick ? 3 : 5;
  const measured: { variant: string; ms: number; cnnMs: number }[] = [];
  const modes: [string, FilterGradientMode][] = [
    ['fast kernels', 'columns'],
    ['filter grad as image conv (before)', 'image-filter'],
  ];
  for (const [variant, mode] of modes) {
    setFilterGradientMode(mode);
    const step = trainingRate(shape, steps);
    const cnn = cnnSeconds(shape, steps);
    measured.push({ variant, ms: step.stepSeconds * 1000, cnnMs: cnn * 1000 });
  }
  setFilterGradientMode('columns');
  const rates = torchGenerationRates(shape, steps);
  const torch =
    'skipped' in rates
      ? []
      : rates.results.map((r) => ({ threads: r.threads, ms: r.stepSeconds * 1000, cnnMs: r.cnnSeconds * 1000 }));
  const oneThreadTorch = torch.find((t) => t.threads === 1) ?? null;
  const rows: GenerationRow[] = measured.map((m) => ({
    variant: m.variant,
    threads: 1,
    ms: m.ms,
    cnnMs: m.cnnMs,
    gflops: total / m.ms / 1e6,
    ratioToTorch: oneThreadTorch ? m.ms / oneThreadTorch.ms : null,
    ratioToPeak: total / m.ms / 1e6 / peakGflops,
  }));
  for (const row of rows) {
    console.log(
      `  wasm   ${row.variant.padEnd(36)} ${row.ms.toFixed(0).padStart(6)} ms/step (CNN alone ${row.cnnMs!.toFixed(0)} ms) ` +
        `${row.gflops.toFixed(2).padStart(6)} GFLOP/s = ${(row.ratioToPeak * 100).toFixed(0)}% of the matmul peak` +
        (row.ratioToTorch === null ? '' : `; ${row.ratioToTorch.toFixed(2)}× PyTorch at 1 thread`),
    );
  }
  if ('skipped' in rates) console.log(`  torch  skipped: ${rates.skipped}`);
  for (const failure of 'skipped' in rates ? [] : rates.failures) console.log(`  torch  failed: ${failure}`);
  for (const t of torch) {
    console.log(
      `  torch  ${`${t.threads} thread${t.threads > 1 ? 's' : ''}`.padEnd(36)} ${t.ms.toFixed(0).padStart(6)} ms/step ` +
        `(CNN alone ${t.cnnMs.toFixed(0)} ms) ${(total / t.ms / 1e6).toFixed(2).padStart(6)} GFLOP/s`,
    );
  }
  return {
    shape: shape.name,
    gflopPerStep: { backbone: flops.backbone / 1e9, cnn: flops.cnn / 1e9 },
    rows,
    torch,
    ...('skipped' in rates ? { torchSkipped: rates.skipped } : {}),
    torchFailures: 'skipped' in rates ? [] : rates.failures,
  };
}
