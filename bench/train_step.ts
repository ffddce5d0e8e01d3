// bench/train_step: one forward + backward + Adam step of the real Qwen2 model (sidecar/model/qwen2_model.ts)
// on every available TF.js backend, and the same step in PyTorch on the same weights and batch.
//
//   npm run bench -- train_step [--quick] [--shapes a,b,c] [--no-torch] [--no-cpu] [--no-big] [--no-generation]
//
// Shapes: (a) the paper's large regression reference net (hidden 128, 6 blocks, 4/4 heads, MLP 256, 48 tokens,
// batch 64, non-causal); (b) mid-size (hidden 256, 6 blocks, 4/2 heads, MLP 256, seq 256, batch 8, causal); (c)
// a small causal shape, the only one the pure-JavaScript cpu backend also runs (hidden 128, 4 blocks, 4/2
// heads, MLP 256, seq 64, batch 32, causal).
// Then the generation task's step (backbone + velocity CNN + CFM loss + Adam) at the quickstart and medium shapes
// (bench/_generation/generation_rows.ts), beside PyTorch at 1 and 2 threads. Every rate is also given as a share
// of the wasm matrix-product peak measured at the start of the run (bench/_generation/matmul_peak.ts).
// Loss: mean squared error of the final hidden states against a fixed random target; inputs enter as vectors
// (inputsEmbeds), as the connectors feed them, so the embedding matrix is not trained.
//
// FLOPs are counted analytically, matrix products only (norms, rotary, softmax and Adam are O(N·H) and left
// out): forward = 2·N·(H·nH·d + 2·H·nKv·d + nH·d·H + 3·H·I) per block for the projections and MLP
// (N = B·T tokens) plus 2·2·B·nH·T·S·d per block for q·kᵀ and p·v; a training step = 3 × forward (backward
// computes the input and weight gradient of every product). GFLOP/s = those FLOPs / median step time.
//
// wasm is measured in variants, each a kernel for the wasm BatchMatMul (sidecar/model/ops/wasm_fast_matmul.ts),
// so the same model code is timed before and after: stock TF.js; transposes materialised (batch-1 products
// reach XNNPACK); the fast kernel (every product, batched ones split per batch entry, on XNNPACK); and that plus
// zero-copy Identity/Cast kernels (sidecar/model/ops/wasm_zero_copy.ts: TF.js copies every tensor it saves for
// backward); and that plus the one-pass rotary kernel (sidecar/model/ops/rotary_kernel.ts: the earlier variants
// compose rotate_half from split/neg/concat as HF writes it); and that plus the one-pass SiLU-gate kernels
// (sidecar/model/ops/swiglu_kernel.ts; earlier variants compose sigmoid and products). The last row is `l3m train`'s
// own configuration: the engine's step (sidecar/train/training_loop.ts trainStep: AdamOptimizer, the kernels
// selectRuntime installs) on every core's data-parallel worker (sidecar/train/data_parallel: the wasm backend's own
// thread pool is off under Node, so this is how a step uses them all), as runtime.threads 0 gives.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Qwen2Model } from '../sidecar/model/qwen2_model';
import { qwen25_05bInstruct } from '../sidecar/model/qwen2_config';
import { backboneStepFlops, regressionShapes, type RegressionShape } from './_shapes/regression_shapes';
import { writeNpy } from '../sidecar/data/npy';
import { probeBackends, selectBackend } from '../sidecar/runtime/backends';
import {
  overrideWasmBatchMatMul,
  restoreStockWasmMatMul,
  type WasmMatMulOverride,
} from '../sidecar/model/ops/wasm_fast_matmul';
import { overrideWasmCopies, restoreWasmCopies } from '../sidecar/model/ops/wasm_zero_copy';
import { setMatMulMode } from '../sidecar/model/ops/matmul';
import { setRotaryMode } from '../sidecar/model/ops/rotary_kernel';
import { setSwigluMode } from '../sidecar/model/ops/swiglu_kernel';
import { hiddenMse, qwen2MseTask } from './_replicas/qwen2_mse';
import { GradientPool } from '../sidecar/train/data_parallel/gradient_pool';
import { AdamOptimizer } from '../sidecar/train/adam_optimizer';
import { trainStep } from '../sidecar/train/training_loop';
import { selectRuntime } from '../sidecar/jobs/select_runtime';
import { runTorch, torchVariants, type TorchResult } from './_torch/torch_runner';
import { generationRows } from './_generation/generation_rows';
import { matMulPeakGflops } from './_generation/matmul_peak';

type Shape = RegressionShape;

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flagValue = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const allShapes = regressionShapes;

/** Matrix-product FLOPs of one training step (see the header). */
const stepFlops = (s: Shape): number => backboneStepFlops(s.config, s.batch, s.length);

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Fixed random inputs and targets, identical for every backend (generated in JS, not by a backend RNG). */
function fixedBatch(s: Shape): { input: Float32Array; target: Float32Array } {
  let state = 12345;
  const next = (): number => {
    // mulberry32, then Box-Muller: a deterministic normal stream that does not depend on the backend.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const size = s.batch * s.length * s.config.hiddenSize;
  const input = new Float32Array(size);
  const target = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    input[i] = normal();
    target[i] = normal();
  }
  return { input, target };
}

const learningRate = 1e-3;

interface Trainer {
  step: () => number;
  dispose: () => void;
  weights: () => [string, tf.Variable][];
}

/** The model, its trainable weights (all but the unused embedding) and an Adam optimizer on the current backend. */
function makeTrainer(s: Shape): Trainer {
  const model = Qwen2Model.random(s.config, 7);
  const trainable = model.namedWeights().filter(([name]) => name !== 'model.embed_tokens.weight');
  const { input, target } = fixedBatch(s);
  const x = tf.tensor3d(input, [s.batch, s.length, s.config.hiddenSize]);
  const y = tf.tensor3d(target, [s.batch, s.length, s.config.hiddenSize]);
  const optimizer = tf.train.adam(learningRate);
  // Mean over features, then over tokens: a single float32 sum of B·T·H terms would round the loss by ~1e-4
  // (wasm sums sequentially), more than the cross-framework tolerance; two levels keep it near 1e-7.
  const loss = (): tf.Scalar => hiddenMse(model, x, y);
  return {
    step: () => {
      const value = optimizer.minimize(
        loss,
        true,
        trainable.map(([, v]) => v),
      )!;
      const result = value.dataSync()[0];
      value.dispose();
      return result;
    },
    weights: () => trainable,
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      tf.dispose([x, y]);
    },
  };
}

/** Writes the initial weights, batch and config for the PyTorch reference. */
function exportForTorch(s: Shape, trainer: Trainer, folder: string): void {
  const { input, target } = fixedBatch(s);
  const shapeOf = [s.batch, s.length, s.config.hiddenSize];
  writeFileSync(path.join(folder, 'input.npy'), writeNpy(input, shapeOf));
  writeFileSync(path.join(folder, 'target.npy'), writeNpy(target, shapeOf));
  const names: string[] = [];
  for (const [name, variable] of trainer.weights()) {
    writeFileSync(path.join(folder, `${name}.npy`), writeNpy(variable.dataSync() as Float32Array, variable.shape));
    names.push(name);
  }
  writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ ...s.config, weights: names, learningRate }));
}

interface Measurement {
  backend: string;
  variant: string;
  ms: number;
  gflops: number;
  loss: number;
  steps: number;
  /** Threads the step computes on (the data-parallel row uses one per worker). */
  threads: number;
  /** 1-minute load average when the measurement finished: the machine is shared, so every figure carries it. */
  load: number;
}

const load1 = (): number => os.loadavg()[0];

function timeSteps(
  trainer: Trainer,
  warmup: number,
  iterations: number,
): { first: number; times: number[]; leaked: number } {
  const first = trainer.step();
  for (let i = 1; i < warmup; i++) trainer.step();
  // Counted after the first step, which creates Adam's two moment variables per weight.
  const before = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    trainer.step();
    times.push(performance.now() - start);
  }
  return { first, times, leaked: tf.memory().numTensors - before };
}

/** `l3m train`'s step: the engine's trainStep on `workers` data-parallel workers (1/N of the rows each). */
async function measureEngineStep(s: Shape, workers: number, iterations: number): Promise<Measurement> {
  await selectRuntime('wasm', '');
  const { input, target } = fixedBatch(s);
  const options = { config: s.config, seed: 7, input, target, batch: s.batch, length: s.length };
  const replica = qwen2MseTask(options);
  const optimizer = new AdamOptimizer(replica.task.phases[0].groups, {
    kind: 'adam',
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  const pool =
    workers > 1
      ? await GradientPool.start({
          workers,
          entry: path.resolve('bench/_replicas/qwen2_mse_worker'),
          job: options,
          task: replica.task,
          batchSize: s.batch,
        })
      : undefined;
  const settings = { batchSize: s.batch, accumulation: 1, stepsPerEpoch: 1, seed: 1, maxGradNorm: 0 };
  const order = Int32Array.from({ length: s.batch }, (_, i) => i);
  const step = async (i: number): Promise<number> => {
    const losses = await trainStep(
      replica.task,
      [{ phase: 'all', optimizer }],
      settings,
      { step: i, lr: learningRate, order },
      pool,
    );
    return losses.get('all')!.value;
  };
  try {
    const first = await step(0);
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await step(i + 1);
      times.push(performance.now() - start);
    }
    const ms = median(times);
    const flops = stepFlops(s);
    const variant = `l3m train ×${workers}`;
    console.log(
      `  ${'wasm'.padEnd(6)} ${variant.padEnd(17)} ${ms.toFixed(0).padStart(7)} ms/step ` +
        `${(flops / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s  loss ${first.toPrecision(7)}  (${times.length} steps, ` +
        `${workers} data-parallel workers as runtime.threads 0 gives, the engine's step, load ${load1().toFixed(1)})`,
    );
    return {
      backend: 'wasm',
      variant,
      ms,
      gflops: flops / ms / 1e6,
      loss: first,
      steps: times.length,
      threads: workers,
      load: load1(),
    };
  } finally {
    await pool?.close();
    optimizer.dispose();
    replica.dispose();
  }
}

async function measureShape(s: Shape, backends: string[], torchFolder: string | null): Promise<Measurement[]> {
  const flops = stepFlops(s);
  const out: Measurement[] = [];
  const iterations = quick ? 2 : 5;
  for (const backend of backends) {
    await selectBackend(backend as 'wasm' | 'cpu' | 'webgpu');
    const variants =
      backend === 'wasm'
        ? ['stock', 'transpose', 'xnn', 'xnn+0copy', 'xnn+0copy+rot', 'xnn+0copy+rot+glu']
        : ['default'];
    for (const variant of variants) {
      if (backend === 'wasm') {
        // The model's own products go through sidecar/model/ops (matMulFast), other tf.matMul calls through the
        // backend's BatchMatMul kernel: each variant sets both.
        setMatMulMode(variant === 'stock' ? 'stock' : variant === 'transpose' ? 'transpose' : 'xnn');
        if (variant === 'stock') restoreStockWasmMatMul();
        else overrideWasmBatchMatMul(variant.startsWith('xnn') ? 'xnn' : (variant as WasmMatMulOverride));
        if (variant.includes('0copy')) overrideWasmCopies();
        else restoreWasmCopies();
      }
      // The JS kernels serve wasm and cpu; only the wasm variants that name them (and every other backend) use them.
      setRotaryMode(backend !== 'wasm' || variant.includes('+rot') ? 'kernel' : 'composite');
      setSwigluMode(backend !== 'wasm' || variant.includes('+glu') ? 'kernel' : 'composite');
      // Pure-JS cpu runs at ~1 GFLOP/s: one timed step is all it can afford.
      const slow = backend === 'cpu' || (backend === 'wasm' && variant === 'stock' && s.id === 'b');
      const trainer = makeTrainer(s);
      if (torchFolder && out.length === 0) exportForTorch(s, trainer, torchFolder);
      const { first, times, leaked } = timeSteps(trainer, 1, slow ? 1 : iterations);
      trainer.dispose();
      const ms = median(times);
      out.push({
        backend,
        variant,
        ms,
        gflops: flops / ms / 1e6,
        loss: first,
        steps: times.length,
        threads: 1,
        load: load1(),
      });
      console.log(
        `  ${backend.padEnd(6)} ${variant.padEnd(17)} ${ms.toFixed(0).padStart(7)} ms/step ` +
          `${(flops / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s  loss ${first.toPrecision(7)}  (${times.length} steps` +
          `${leaked !== 0 ? `, ${leaked} tensors left` : ''}, load ${load1().toFixed(1)})`,
      );
    }
    if (backend === 'wasm') {
      restoreStockWasmMatMul();
      restoreWasmCopies();
      setMatMulMode('xnn');
      setRotaryMode('kernel');
      setSwigluMode('kernel');
      out.push(await measureEngineStep(s, os.availableParallelism(), iterations));
    }
  }
  return out;
}

/** Forward time and peak RSS of Qwen2.5-0.5B (random weights) for 64 tokens, in a fresh process. */
function bigModelChild(): void {
  void (async () => {
    await selectBackend('wasm');
    overrideWasmBatchMatMul('xnn');
    overrideWasmCopies();
    const startInit = performance.now();
    const model = Qwen2Model.random(qwen25_05bInstruct, 3);
    const initMs = performance.now() - startInit;
    const ids = tf.tensor2d(
      Array.from({ length: 64 }, (_, i) => (i * 7919) % qwen25_05bInstruct.vocabSize),
      [1, 64],
      'int32',
    );
    const times: number[] = [];
    for (let i = 0; i < (quick ? 2 : 3); i++) {
      const start = performance.now();
      const { hidden, logits } = model.forward({ inputIds: ids, returnLogits: true });
      logits!.dataSync();
      times.push(performance.now() - start);
      tf.dispose([hidden, logits!]);
    }
    console.log(
      JSON.stringify({
        initMs,
        forwardMs: times,
        parameters: model.parameterCount(),
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      }),
    );
  })();
}

async function main(): Promise<void> {
  if (argv.includes('--big-child')) return bigModelChild();
  const shapeIds = (flagValue('--shapes') ?? 'a,b,c').split(',');
  const shapes = allShapes.filter((s) => shapeIds.includes(s.id));
  const probes = await probeBackends();
  const backends: string[] = [];
  console.log('Backends:');
  for (const p of probes) {
    const wanted = p.name === 'wasm' || (p.name === 'cpu' && !argv.includes('--no-cpu')) || p.name === 'webgpu';
    const used = p.available && wanted && p.name !== 'cuda' && p.name !== 'cpu-native';
    console.log(`  ${p.name.padEnd(10)} ${used ? 'measured' : 'skipped'}: ${p.detail}`);
    if (used) backends.push(p.name);
  }
  // The matrix-product peak of this run (one thread, wasm fast kernel): each row's rate divided by it (times its
  // threads) shows how far a step is from what the backend can do at all.
  const peak = await matMulPeakGflops();
  console.log(`Matrix-product peak (wasm, 1 thread, 1024³): ${peak.toFixed(1)} GFLOP/s`);
  const torchOk =
    !argv.includes('--no-torch') &&
    spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!torchOk) console.log('PyTorch: skipped (--no-torch, or /usr/bin/python3 cannot import torch)');
  const figures: Record<string, unknown> = {
    quick,
    loadAverageStart: os.loadavg(),
    matmulPeakGflops: peak,
    shapes: {},
  };
  for (const s of shapes) {
    console.log(`\n(${s.id}) ${s.label}: ${(stepFlops(s) / 1e9).toFixed(2)} GFLOP per step`);
    const folder = torchOk ? mkdtempSync(path.join(os.tmpdir(), 'l3m-train-step-')) : null;
    try {
      const tfjs = await measureShape(
        s,
        backends.filter((b) => b !== 'cpu' || s.id === 'c'),
        folder,
      );
      let torch: TorchResult[] = [];
      // PyTorch's loss is checked against the wasm fast-kernel loss (the configuration that matters).
      const reference = tfjs.find((m) => m.backend === 'wasm' && m.variant === 'xnn+0copy+rot+glu') ?? tfjs[0];
      if (folder) torch = runTorch(folder, torchVariants(), quick ? 2 : 5, reference.loss, stepFlops(s), s.id === 'b');
      const correct = torch.filter((t) => t.lossMatches);
      const best = correct.length ? correct.reduce((p, q) => (q.ms < p.ms ? q : p)) : null;
      if (best) {
        console.log(`  fastest correct PyTorch: ${best.name} ${best.ms.toFixed(0)} ms/step`);
        console.log(
          '  ratio tfjs / fastest correct PyTorch (lower is better), and share of the matmul peak × threads:',
        );
        for (const m of tfjs)
          console.log(
            `    ${m.backend.padEnd(6)} ${m.variant.padEnd(17)} ${(m.ms / best.ms).toFixed(1)}×  ` +
              `${((100 * m.gflops) / (peak * m.threads)).toFixed(0)}% of peak`,
          );
      }
      // Like for like (goal ≤ 2×): single-threaded TF.js against PyTorch's fastest correct 1-thread set-up, the
      // 2-worker step against its fastest correct 2-thread set-up.
      const bestWith = (threads: number): TorchResult | null =>
        correct
          .filter((t) => t.threads === threads)
          .reduce<TorchResult | null>((p, q) => (!p || q.ms < p.ms ? q : p), null);
      const like: Record<string, number> = {};
      for (const threads of [1, 2]) {
        const torchBest = bestWith(threads);
        const ours = tfjs
          .filter((m) => m.backend === 'wasm' && m.threads === threads)
          .reduce<Measurement | null>((p, q) => (!p || q.ms < p.ms ? q : p), null);
        if (!torchBest || !ours) continue;
        like[`threads${threads}`] = ours.ms / torchBest.ms;
        console.log(
          `  ${threads} thread${threads > 1 ? 's' : ''}: wasm ${ours.variant} ${ours.ms.toFixed(0)} ms / PyTorch ` +
            `${torchBest.name} ${torchBest.ms.toFixed(0)} ms = ${(ours.ms / torchBest.ms).toFixed(1)}×`,
        );
      }
      (figures['shapes'] as Record<string, unknown>)[s.id] = {
        label: s.label,
        gflopPerStep: stepFlops(s) / 1e9,
        tfjs: tfjs.map((m) => ({
          ...m,
          ratioToTorch: best ? m.ms / best.ms : null,
          ratioToPeak: m.gflops / (peak * m.threads),
        })),
        torch,
        torchBest: best?.name ?? null,
        likeForLikeRatio: like,
        load: load1(),
      };
    } finally {
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  }
  if (!argv.includes('--no-generation')) figures['generation'] = await generationRows(quick, peak);
  if (!argv.includes('--no-big')) {
    console.log(
      '\nQwen2.5-0.5B shape, random weights, forward of 64 tokens with logits, wasm (fast kernel), fresh process:',
    );
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/train_step.ts', '--big-child', ...(quick ? ['--quick'] : [])],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const line = child.stdout.trim().split('\n').pop() ?? '';
    try {
      const big = JSON.parse(line) as { initMs: number; forwardMs: number[]; parameters: number; peakRssMiB: number };
      console.log(
        `  ${(big.parameters / 1e6).toFixed(0)}M parameters, init ${(big.initMs / 1000).toFixed(1)} s, forward ` +
          `${big.forwardMs.map((t) => t.toFixed(0)).join(', ')} ms (first includes warm-up), peak RSS ${big.peakRssMiB.toFixed(0)} MiB`,
      );
      figures['qwen25_05b'] = { ...big, forwardMsMedian: median(big.forwardMs.slice(1)) };
    } catch {
      console.log(`  failed: ${child.stderr.slice(-2000)}`);
      figures['qwen25_05b'] = { error: child.stderr.slice(-500) };
    }
  }
  figures['loadAverageEnd'] = os.loadavg();
  console.log(JSON.stringify(figures));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
