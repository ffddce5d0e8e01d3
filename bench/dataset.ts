// bench/dataset: is data ever the bottleneck of a training step?
//
//   npm run bench -- dataset [--count N] [--repeats N] [--no-torch]
//
// 1. A simulated dataset (preset `test`, N cones) is generated once into the dataset cache (reused
//    on later runs) and then loaded from the cache: seconds per cone to read and prepare it.
// 2. From the prepared cones: generation batches per second (8 random 12-slice windows with a
//    random D4 symmetry and periodic roll, cut into 8×8 patches, by the function training uses,
//    generation_data.windowBatch) and regression batches per second
//    (64 samples of 47 standardised global-signal tokens with normalised parameters).
// 3. At the paper's size (140² slices, 14² patches) on a synthetic cone: generation batches per
//    second, against the same batch built with NumPy (rot90, transpose, roll, reshape) in the same run.
// 4. The time of one training step in PyTorch on the same CPU (AdamW, MSE) of the regression
//    reference network (6 blocks, hidden 128, 48 tokens, batch 64) and of a generation-shaped network
//    (4 blocks, hidden 128, 252 tokens = 12 slices × 21 tokens of a 32² cone, batch 8), as the step
//    the batch has to keep up with. The ratio step time / batch time is the head-room; > 1 means the
//    data pipeline is not the bottleneck (the goal).
//
//   npm run bench -- dataset --paper-scale [--cones 50,200] [--batches N] [--steps N] [--keep]
//
// runs the paper-scale section instead (bench/_dataset/paper_scale.ts): synthetic half-paper-size .npz
// datasets of 50 and 200 cones (several GB) converted into the store against the disk's read speed,
// batches per second from the store for both tasks against real training steps of the quickstart
// models, and the data path's peak RSS at each size. `--cones 3,6` is a quick check of the same path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomAugmentation } from '../sidecar/data/augmentation';
import {
  epochBatches,
  memoryCone,
  regressionBatch,
  type PreparedCone,
  type RegressionSample,
} from '../sidecar/data/batches';
import {
  fitStandardization,
  globalSignalTokens,
  standardize,
  toCosmicTimeOrder,
  transformVoxels,
} from '../sidecar/data/preprocessing';
import { generateSimulatedDataset } from '../sidecar/data/simulated_dataset';
import { randomInt, seededRandom, type Random } from '../sidecar/data/splits';
import { windowBatch } from '../sidecar/tasks/generation/generation_data';
import { fiducialParams } from '../sidecar/data/parameters';
import { paperScale } from './_dataset/paper_scale';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const count = option('--count', 4);
const repeats = option('--repeats', 30);
const useTorch = !argv.includes('--no-torch');

/** A training batch as generation training draws one: random cones, window starts and augmentations (generation_data.trainingBatch). */
function generationBatch(cones: readonly PreparedCone[], batchSize: number, patchSize: number, random: Random) {
  const windows = Array.from({ length: batchSize }, () => {
    const cone = randomInt(random, cones.length);
    return { cone, start: randomInt(random, cones[cone].nt - 12 + 1) };
  });
  return windowBatch(cones, windows, 12, patchSize, () => randomAugmentation(random, cones[0].n));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median seconds of `fn` over `n` runs after one warm-up. */
function time(fn: () => void, n: number): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(samples);
}

const pythonScript = String.raw`
import json, sys, time
import numpy as np
args = json.loads(sys.argv[1])
out = {}
# NumPy reference of one generation batch at the paper's size: window, rot90, transpose, roll, patches.
rng = np.random.default_rng(0)
n, nt, p, b, w = args["n"], args["nt"], args["patch"], args["batch"], 12
cone = rng.standard_normal((nt, n, n)).astype(np.float32)
def batch():
    xs = []
    for _ in range(b):
        s = rng.integers(0, nt - w + 1)
        x = cone[s:s + w]
        x = np.rot90(x, rng.integers(0, 4), axes=(1, 2))
        if rng.random() < 0.5: x = x.transpose(0, 2, 1)
        x = np.roll(x, (rng.integers(0, n), rng.integers(0, n)), axis=(1, 2))
        x = x.reshape(w, n // p, p, n // p, p).transpose(0, 1, 3, 2, 4).reshape(w, (n // p) ** 2, p * p)
        xs.append(np.ascontiguousarray(x))
    return np.stack(xs)
batch()
ts = []
for _ in range(args["repeats"]):
    t0 = time.perf_counter(); batch(); ts.append(time.perf_counter() - t0)
out["numpy_generation_batch_s"] = float(np.median(ts))
try:
    import torch
    torch.set_num_threads(2)
    def step_time(hidden, layers, heads, mlp, seq, batch_size, causal):
        layer = torch.nn.TransformerEncoderLayer(hidden, heads, mlp, dropout=0.0, batch_first=True, norm_first=True)
        net = torch.nn.TransformerEncoder(layer, layers)
        opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
        x = torch.randn(batch_size, seq, hidden); y = torch.randn(batch_size, seq, hidden)
        mask = torch.triu(torch.full((seq, seq), float("-inf")), 1) if causal else None
        def step():
            opt.zero_grad(); loss = torch.nn.functional.mse_loss(net(x, mask=mask), y); loss.backward(); opt.step()
        step()
        ts = []
        for _ in range(3):
            t0 = time.perf_counter(); step(); ts.append(time.perf_counter() - t0)
        return float(np.median(ts))
    out["torch_regression_step_s"] = step_time(128, 6, 4, 256, 48, 64, False)
    out["torch_generation_step_s"] = step_time(128, 4, 4, 256, 252, 8, True)
    out["torch_version"] = torch.__version__
except ImportError as e:
    out["torch_skipped"] = str(e)
print(json.dumps(out))
`;

async function main(): Promise<void> {
  console.log(`bench/dataset on ${os.cpus()[0]?.model ?? 'cpu'} (${os.availableParallelism()} cores available)`);
  const started = Date.now();
  const dataset = await generateSimulatedDataset(
    { preset: 'test', count, seed: 2024 },
    { workers: os.availableParallelism() },
  );
  const generationSeconds = (Date.now() - started) / 1000;
  console.log(
    dataset.fromCache
      ? `dataset: ${count} cones of the 'test' preset reused from the cache ${dataset.folder}`
      : `dataset: ${count} cones of the 'test' preset simulated in ${generationSeconds.toFixed(1)} s (${dataset.simulatedCount} simulations) into ${dataset.folder}`,
  );

  // Load from the cache and prepare: cosmic-time order, log1p transform, global-signal tokens.
  const loadStart = process.hrtime.bigint();
  const entries = await dataset.source.list();
  const cones: PreparedCone[] = [];
  const rawTokens: Float64Array[] = [];
  for (const entry of entries) {
    const record = toCosmicTimeOrder(await dataset.source.load(entry.id));
    cones.push(
      memoryCone({
        slices: transformVoxels(record.brightness, { kind: 'log1p' }),
        n: record.shape.nx,
        nt: record.shape.nt,
        params: record.params,
      }),
    );
    rawTokens.push(globalSignalTokens(record, Math.floor(record.shape.nt / 47)).subarray(0, 47));
  }
  const loadSecondsPerCone = Number(process.hrtime.bigint() - loadStart) / 1e9 / entries.length;
  const { n, nt } = cones[0];
  console.log(`cache read + preparation: ${(loadSecondsPerCone * 1000).toFixed(0)} ms per ${n}×${n}×${nt} cone`);

  const random = seededRandom(1);
  const generationSeconds32 = time(() => generationBatch(cones, 8, 8, random), repeats);
  const stats = fitStandardization(rawTokens);
  // Regression epochs repeat the cones (the reference's train_ds_multiplicity) to fill batches of 64.
  const samples: RegressionSample[] = Array.from({ length: 256 }, (_, i) => ({
    tokens: standardize(rawTokens[i % rawTokens.length], stats),
    params: cones[i % cones.length].params,
  }));
  const batches = epochBatches(samples.length, 64, 1, 0);
  let next = 0;
  const regressionSeconds = time(() => {
    regressionBatch(samples, batches[next++ % batches.length]);
  }, repeats * 10);
  console.log(
    `generation batch (8 × 12 slices of ${n}², 8² patches, augmented): ${(generationSeconds32 * 1000).toFixed(2)} ms → ${(1 / generationSeconds32).toFixed(0)} batches/s`,
  );
  console.log(
    `regression batch (64 × 47 tokens + params): ${(regressionSeconds * 1e6).toFixed(1)} µs → ${(1 / regressionSeconds).toFixed(0)} batches/s`,
  );

  // The paper's size on a synthetic cone (the values do not change the cost).
  const paperN = 140;
  const paperNt = 200;
  const synthetic = seededRandom(3);
  const paperCone: PreparedCone = memoryCone({
    slices: Float32Array.from({ length: paperN * paperN * paperNt }, () => synthetic()),
    n: paperN,
    nt: paperNt,
    params: fiducialParams,
  });
  const paperSeconds = time(() => generationBatch([paperCone], 8, 14, random), Math.max(5, Math.floor(repeats / 3)));
  console.log(
    `paper-size generation batch (8 × 12 slices of 140², 14² patches, augmented): ${(paperSeconds * 1000).toFixed(1)} ms → ${(1 / paperSeconds).toFixed(1)} batches/s`,
  );

  let reference: Record<string, number | string> = {};
  const python = '/usr/bin/python3';
  if (useTorch) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'l3m-bench-dataset-'));
    const script = path.join(dir, 'reference.py');
    writeFileSync(script, pythonScript);
    const result = spawnSync(
      python,
      [
        script,
        JSON.stringify({ n: paperN, nt: paperNt, patch: 14, batch: 8, repeats: Math.max(5, Math.floor(repeats / 3)) }),
      ],
      { encoding: 'utf8' },
    );
    rmSync(dir, { recursive: true, force: true });
    if (result.status === 0) reference = JSON.parse(result.stdout.trim().split('\n').pop()!) as typeof reference;
    else
      console.log(
        `reference skipped: ${python} failed (${(result.stderr || result.error?.message || '').trim().split('\n').pop()})`,
      );
  }
  const numpySeconds =
    typeof reference.numpy_generation_batch_s === 'number' ? reference.numpy_generation_batch_s : undefined;
  if (numpySeconds) {
    console.log(
      `  NumPy, same batch: ${(numpySeconds * 1000).toFixed(1)} ms → ours/NumPy time ratio ${(paperSeconds / numpySeconds).toFixed(2)}`,
    );
  }
  const regressionStep =
    typeof reference.torch_regression_step_s === 'number' ? reference.torch_regression_step_s : undefined;
  const generationStep =
    typeof reference.torch_generation_step_s === 'number' ? reference.torch_generation_step_s : undefined;
  if (regressionStep && generationStep) {
    console.log(
      `PyTorch ${reference.torch_version} training step on this CPU: regression net ${(regressionStep * 1000).toFixed(0)} ms, generation-shaped net ${(generationStep * 1000).toFixed(0)} ms`,
    );
    console.log(
      `head-room (step time / batch time): regression ${(regressionStep / regressionSeconds).toFixed(0)}×, generation ${(generationStep / generationSeconds32).toFixed(0)}×` +
        ` → data is ${regressionStep > regressionSeconds && generationStep > generationSeconds32 ? 'not' : 'STILL'} the bottleneck`,
    );
  } else if (useTorch) {
    console.log(`PyTorch step skipped: ${reference.torch_skipped ?? 'python3 reference did not run'}`);
  }

  console.log(
    JSON.stringify({
      bench: 'dataset',
      cones: count,
      cone_shape: [n, n, nt],
      from_cache: dataset.fromCache,
      generation_seconds: dataset.fromCache ? null : generationSeconds,
      cache_load_ms_per_cone: loadSecondsPerCone * 1000,
      generation_batches_per_s: 1 / generationSeconds32,
      regression_batches_per_s: 1 / regressionSeconds,
      paper_size_generation_batches_per_s: 1 / paperSeconds,
      numpy_paper_size_generation_batches_per_s: numpySeconds ? 1 / numpySeconds : null,
      ratio_time_ours_over_numpy: numpySeconds ? paperSeconds / numpySeconds : null,
      torch_regression_step_ms: regressionStep ? regressionStep * 1000 : null,
      torch_generation_step_ms: generationStep ? generationStep * 1000 : null,
      headroom_regression: regressionStep ? regressionStep / regressionSeconds : null,
      headroom_generation: generationStep ? generationStep / generationSeconds32 : null,
    }),
  );
}

(argv.includes('--paper-scale') ? paperScale(argv) : main()).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
