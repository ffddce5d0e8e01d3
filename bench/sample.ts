// bench/sample: the generation task's speed.
//  1. Slice forecasting, patches per second with and without the KV cache after 1, 4 and 12 slices:
//     with the cache each patch feeds 1–3 new tokens, so its cost stays flat as the context grows;
//     without it each patch re-runs the whole sequence, so its cost grows with it. What is timed is
//     the second generated slice (after C = 0, 3, 11 context slices and the first generated one), so
//     that the one-off prefill of the prompt and the context — a single forward pass over them, not a
//     per-patch cost — is left out of the per-patch figure. The ODE is one Euler step here so that the
//     backbone's cost is what is measured; one line with the config's RK4 × 8 shows the full per-patch
//     cost. Each rate is the median of 3 timed runs: single runs on this shared machine moved the 1→12
//     cost ratio by ×0.9–2.2.
//  2. Training throughput in patch tokens per second (batch × window × patches per slice per optimizer
//     step: forward, backward and Adam) on each available TF.js backend, beside PyTorch on the same CPU
//     for the same shapes (/usr/bin/python3 with torch; skipped with a reason otherwise). On wasm, two rows:
//     the training process's kernels (installFastWasmKernels: XNNPACK matmuls and conv2d gradients, the
//     velocity CNN on tf.conv2d) and the stock kernels with the CNN's im2col convolutions (the state before
//     sidecar/model/ops/wasm_conv2d_gradients.ts), so the gain is measured in the same run.
// Usage: npm run bench -- sample [--quick]
import { installFastWasmKernels, uninstallFastWasmKernels } from '../sidecar/model/ops/install_wasm_kernels';
import { selectBackend } from '../sidecar/runtime/backends';
import type { GenerationModel } from '../sidecar/tasks/generation/generation_model';
import { forecastSlices } from '../sidecar/tasks/generation/generation_sampler';
import { setConvolutionPath } from '../sidecar/tasks/generation/velocity_cnn';
import {
  buildModel,
  cnnSeconds,
  mediumShape,
  quickstartShape,
  torchGenerationRates,
  trainingRate,
} from './_generation/generation_step';

const quick = process.argv.includes('--quick');

/** Patches per second of the second generated slice, which follows `before` slices (before − 1 of them context). */
async function samplingRate(
  model: GenerationModel,
  before: number,
  useCache: boolean,
  ode: { solver: 'euler' | 'rk4'; steps: number },
): Promise<number> {
  const perSlice = model.patchesPerSlice * model.patchSize ** 2;
  const contextSlices = before - 1;
  const context = Float32Array.from({ length: contextSlices * perSlice }, (_, i) => Math.sin(i));
  let firstSliceDone = 0;
  let seconds = 0;
  const options = {
    params: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    timeStep: 0,
    context,
    contextSlices,
    slices: 2,
    ode,
    seed: 1,
    useCache,
    onSlice: (index: number) => {
      if (index === 0) firstSliceDone = performance.now();
      else seconds += (performance.now() - firstSliceDone) / 1000;
    },
  };
  await forecastSlices(model, options); // warm-up: kernels compiled, memory pools filled
  const repeats = quick ? 1 : 2;
  const rates: number[] = [];
  for (let run = 0; run < 3; run++) {
    seconds = 0;
    for (let r = 0; r < repeats; r++) await forecastSlices(model, options);
    rates.push((repeats * model.patchesPerSlice) / seconds);
  }
  return rates.sort((a, b) => a - b)[1];
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = {};
  const backend = await selectBackend('wasm');
  installFastWasmKernels();
  console.log(
    `Sampling on ${backend.name} (${backend.device}); medium backbone (hidden ${mediumShape.hidden}, ${mediumShape.layers} blocks), 4×4 patches of 8² per slice (21 tokens), the second of two generated slices timed.`,
  );
  const model = buildModel({ ...mediumShape, cnn: { channels: 16, blocks: 2 } }, 512);
  const sampling: Record<string, { cached: number; uncached: number }> = {};
  console.log(' slices before | cached patches/s | uncached patches/s | cached/uncached');
  for (const before of [1, 4, 12]) {
    const cached = await samplingRate(model, before, true, { solver: 'euler', steps: 1 });
    const uncached = await samplingRate(model, before, false, { solver: 'euler', steps: 1 });
    sampling[before] = { cached, uncached };
    console.log(
      `${String(before).padStart(14)} | ${cached.toFixed(1).padStart(16)} | ${uncached.toFixed(1).padStart(18)} | ${(cached / uncached).toFixed(2).padStart(15)}`,
    );
  }
  const flat = sampling[1].cached / sampling[12].cached;
  const growth = sampling[1].uncached / sampling[12].uncached;
  console.log(
    `Cost per patch from 1 to 12 slices before it: cached ×${flat.toFixed(2)}, uncached ×${growth.toFixed(2)} (a 12× longer sequence).`,
  );
  const rk4 = await samplingRate(model, 12, true, { solver: 'rk4', steps: 8 });
  console.log(
    `With the quickstart's RK4 × 8 (32 CNN evaluations a patch), cached, after 12 slices: ${rk4.toFixed(1)} patches/s.`,
  );
  model.dispose();
  figures.sampling = {
    backend: backend.name,
    patchesPerSecond: sampling,
    costGrowth1to12: { cached: flat, uncached: growth },
    rk4x8Cached12: rk4,
  };

  const training: Record<string, unknown> = {};
  for (const shape of quick ? [quickstartShape] : [quickstartShape, mediumShape]) {
    console.log(
      `\nTraining step, ${shape.name} shapes: batch ${shape.batch} × ${shape.window} slices × ${(shape.n / shape.patchSize) ** 2} patches, hidden ${shape.hidden}, ${shape.layers} blocks, CNN ${shape.cnn.channels}×${shape.cnn.blocks}`,
    );
    const rows: Record<string, unknown> = {};
    // The pure-JavaScript cpu backend takes tens of seconds a step; it is timed on the quickstart shapes only, over one step.
    for (const name of shape === quickstartShape
      ? (['wasm', 'wasm-before', 'cpu'] as const)
      : (['wasm', 'wasm-before'] as const)) {
      const selected = await selectBackend(name === 'cpu' ? 'cpu' : 'wasm');
      const before = name === 'wasm-before';
      if (before) uninstallFastWasmKernels();
      else installFastWasmKernels();
      setConvolutionPath(before ? 'im2col' : 'auto');
      const r = trainingRate(shape, name === 'cpu' ? 1 : quick ? 3 : 5);
      // The cpu backend's CNN alone would take another minute; its step already shows that backend's speed.
      const cnn = name === 'cpu' ? undefined : cnnSeconds(shape, quick ? 3 : 5);
      setConvolutionPath('auto');
      rows[name] = { ...r, cnnSeconds: cnn };
      const note = before ? ', stock kernels, im2col convolutions' : name === 'wasm' ? ', fast kernels, tf.conv2d' : '';
      const cnnNote = cnn === undefined ? '' : `; the velocity CNN alone ${(cnn * 1000).toFixed(0)} ms`;
      console.log(
        `  TF.js ${name.padEnd(11)} ${r.tokensPerSecond.toFixed(0).padStart(8)} patch tokens/s  (${(r.stepSeconds * 1000).toFixed(0)} ms/step${cnnNote}; ${selected.device}${note})`,
      );
    }
    installFastWasmKernels();
    const rates = torchGenerationRates(shape, quick ? 3 : 5);
    // PyTorch's best of 1 and 2 threads, so that a slowed 2-thread run on the shared cores cannot flatter TF.js.
    const torch =
      'skipped' in rates
        ? rates
        : rates.results.length === 0
          ? { skipped: `every PyTorch run failed: ${rates.failures.join('; ')}` }
          : rates.results.reduce((p, q) => (q.stepSeconds < p.stepSeconds ? q : p));
    rows.torch = torch;
    if ('skipped' in torch) console.log(`  PyTorch           skipped: ${torch.skipped}`);
    else {
      console.log(
        `  PyTorch           ${torch.tokensPerSecond.toFixed(0).padStart(8)} patch tokens/s  (${(torch.stepSeconds * 1000).toFixed(0)} ms/step; the velocity CNN alone ${(torch.cnnSeconds * 1000).toFixed(0)} ms; torch ${torch.torch}, ${torch.threads} threads, median step, best of 1 and 2 threads)`,
      );
      const wasm = (rows['wasm'] as { tokensPerSecond: number }).tokensPerSecond;
      const before = (rows['wasm-before'] as { tokensPerSecond: number }).tokensPerSecond;
      console.log(
        `  wasm / PyTorch: ${(wasm / torch.tokensPerSecond).toFixed(2)} (before: ${(before / torch.tokensPerSecond).toFixed(2)}); ` +
          `wasm speed-up from the conv2d gradient kernels and fast kernels: ×${(wasm / before).toFixed(2)}`,
      );
    }
    training[shape.name] = rows;
  }
  figures.training = training;
  console.log(JSON.stringify({ bench: 'sample', ...figures }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
