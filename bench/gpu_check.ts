// The GPU check (`npm run gpu-check`, or `./gpu-check` in the bundle that `npm run gpu-bundle` builds):
// probes every compute backend, then on each GPU backend found (webgpu through the GPU's Vulkan driver;
// cuda through @tensorflow/tfjs-node-gpu) times the regression training step at bench/train_step's shapes
// and the generation step (backbone + velocity CNN) at the quickstart and a medium shape, and runs the
// same regression steps in PyTorch on the same GPU where `python3 -c "import torch"` works and sees CUDA,
// for the ratio. Every backend that cannot run is reported with the reason. Prints the figures, then one
// JSON line holding them all.
//
//   gpu-check [--quick] [--shapes a,b,c] [--allow-software-gpu] [--tiny]
//
// --allow-software-gpu lets webgpu run on Mesa's software adapter (checks the path on a machine without
// a GPU); --tiny replaces the shapes with one tiny shape of each step, so that such a check is quick.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Qwen2Model } from '../sidecar/model/qwen2_model';
import type { Qwen2Config } from '../sidecar/model/qwen2_config';
import {
  backboneStepFlops,
  benchBackbone,
  regressionShapes as trainStepShapes,
  type RegressionShape,
} from './_shapes/regression_shapes';
import { writeNpy } from '../sidecar/data/npy';
import { linear } from '../sidecar/model/ops/linear';
import { VelocityCnn } from '../sidecar/tasks/generation/velocity_cnn';
import { probeBackends, selectBackend, visibleNvidiaGpus } from '../sidecar/runtime/backends';
import { errorMessage } from '../sidecar/protocol/error_message';
import type { BackendProbe } from '../sidecar/protocol/messages';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const tiny = argv.includes('--tiny');
const allowSoftwareGpu = argv.includes('--allow-software-gpu');
const shapeFlag = argv.indexOf('--shapes');
const wantedShapes = shapeFlag >= 0 ? (argv[shapeFlag + 1] ?? '').split(',') : null;
const iterations = quick || tiny ? 2 : 5;
const learningRate = 1e-3;

interface GenerationShape {
  id: string;
  label: string;
  config: Qwen2Config;
  batch: number;
  length: number;
  /** Patches per example whose velocity is trained (the tokens before them condition it). */
  patches: number;
  patchSize: number;
  cnn: { channels: number; blocks: number; condChannels: number };
}

// The regression shapes of bench/train_step (the same ids), whose PyTorch reference is bench/_torch/train_step.py.
const regressionShapes: RegressionShape[] = tiny
  ? [
      {
        id: 'tiny',
        label: 'tiny: H16 L1 2/1h MLP32 T8 B2',
        config: benchBackbone(16, 1, 2, 1, 32, true),
        batch: 2,
        length: 8,
      },
    ]
  : trainStepShapes;

// The generation step: examples/quickstart-generation.l3m.json's sizes, and a medium backbone with the paper's CNN.
const generationShapes: GenerationShape[] = tiny
  ? [
      {
        id: 'gen-tiny',
        label: 'tiny: H16 L1, CNN 4ch 1 block, p4, 4 patches, B2',
        config: benchBackbone(16, 1, 2, 1, 32, true),
        batch: 2,
        length: 8,
        patches: 4,
        patchSize: 4,
        cnn: { channels: 4, blocks: 1, condChannels: 2 },
      },
    ]
  : [
      {
        id: 'gen-quickstart',
        label: 'quickstart: H32 L2 4/2h MLP64 T102, CNN 16ch 2 blocks, p8, 64 patches, B8',
        config: benchBackbone(32, 2, 4, 2, 64, true),
        batch: 8,
        length: 102,
        patches: 64,
        patchSize: 8,
        cnn: { channels: 16, blocks: 2, condChannels: 3 },
      },
      {
        id: 'gen-medium',
        label: 'medium: H128 L4 4/4h MLP256 T252, paper CNN 64ch 6 blocks, p8, 64 patches, B8',
        config: benchBackbone(128, 4, 4, 4, 256, true),
        batch: 8,
        length: 252,
        patches: 64,
        patchSize: 8,
        cnn: { channels: 64, blocks: 6, condChannels: 3 },
      },
    ];

/** Deterministic normal values (mulberry32 + Box-Muller), the same for every backend and for PyTorch. */
function normals(count: number, seed: number): Float32Array {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  return out;
}

/** The CNN's convolution FLOPs for M patches (3 × forward), added to the backbone's for a generation step. */
function cnnFlops(s: GenerationShape): number {
  const pixels = s.batch * s.patches * s.patchSize * s.patchSize;
  const { channels, blocks, condChannels } = s.cnn;
  const inChannels = condChannels + 2;
  const forward =
    2 *
    pixels *
    (9 * inChannels * channels + blocks * (9 * channels * 2 * channels + 2 * channels * channels) + 9 * channels);
  return 3 * forward;
}

interface Timed {
  ms: number;
  gflops: number;
  loss: number;
  steps: number;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Times `step` (which returns the loss tensor): one warm-up, then `iterations` steps, each awaited to completion. */
async function timeSteps(step: () => tf.Scalar, flops: number): Promise<Timed> {
  const firstLoss = step();
  const loss = (await firstLoss.data())[0];
  firstLoss.dispose();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    const value = step();
    await value.data();
    times.push(performance.now() - start);
    value.dispose();
  }
  const ms = median(times);
  return { ms, gflops: flops / ms / 1e6, loss, steps: times.length };
}

/** The regression step of bench/train_step: MSE of the final hidden states, Adam on every weight but the embedding. */
async function regressionStep(s: RegressionShape, folder: string | null): Promise<Timed> {
  const model = Qwen2Model.random(s.config, 7);
  const trainable = model.namedWeights().filter(([name]) => name !== 'model.embed_tokens.weight');
  const size = s.batch * s.length * s.config.hiddenSize;
  const input = normals(size, 12345);
  const target = normals(size, 54321);
  const x = tf.tensor3d(input, [s.batch, s.length, s.config.hiddenSize]);
  const y = tf.tensor3d(target, [s.batch, s.length, s.config.hiddenSize]);
  if (folder) {
    // The same weights and batch for the PyTorch reference.
    const shapeOf = [s.batch, s.length, s.config.hiddenSize];
    writeFileSync(path.join(folder, 'input.npy'), writeNpy(input, shapeOf));
    writeFileSync(path.join(folder, 'target.npy'), writeNpy(target, shapeOf));
    for (const [name, variable] of trainable)
      writeFileSync(
        path.join(folder, `${name}.npy`),
        writeNpy(Float32Array.from(await variable.data()), variable.shape),
      );
    writeFileSync(
      path.join(folder, 'config.json'),
      JSON.stringify({ ...s.config, weights: trainable.map(([name]) => name), learningRate }),
    );
  }
  const optimizer = tf.train.adam(learningRate);
  const loss = (): tf.Scalar =>
    tf.mean(tf.mean(tf.squaredDifference(model.forward({ inputsEmbeds: x, training: true }).hidden, y), -1));
  try {
    return await timeSteps(
      () =>
        optimizer.minimize(
          loss,
          true,
          trainable.map(([, v]) => v),
        )!,
      backboneStepFlops(s.config, s.batch, s.length),
    );
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}

/**
 * The generation step: the backbone on B sequences of embeddings, the hidden state of the first `patches`
 * tokens of each mapped to the CNN's condition (the output connector), and the conditional flow matching
 * loss of the velocity CNN on noisy patches; Adam on every weight.
 */
async function generationStep(s: GenerationShape): Promise<Timed> {
  const { config, batch, length, patches, patchSize } = s;
  const p2 = patchSize * patchSize;
  const m = batch * patches;
  const model = Qwen2Model.random(config, 11);
  const cnn = new VelocityCnn({
    patchSize,
    condChannels: s.cnn.condChannels,
    channels: s.cnn.channels,
    blocks: s.cnn.blocks,
    residualFactor: 2,
    kernelSize: 3,
    seed: 5,
  });
  const connector = tf.variable(
    tf.tensor2d(
      normals(s.cnn.condChannels * p2 * config.hiddenSize, 3).map((v) => v * 0.05),
      [s.cnn.condChannels * p2, config.hiddenSize],
    ),
  );
  const embeds = tf.tensor3d(normals(batch * length * config.hiddenSize, 21), [batch, length, config.hiddenSize]);
  const x0 = tf.tensor2d(normals(m * p2, 22), [m, p2]);
  const x1 = tf.tensor2d(normals(m * p2, 23), [m, p2]);
  const tau = tf.tensor1d(Float32Array.from({ length: m }, (_, i) => ((i * 7919) % 997) / 997));
  const variables = [
    ...model
      .namedWeights()
      .filter(([name]) => name !== 'model.embed_tokens.weight')
      .map(([, v]) => v),
    ...cnn.namedWeights().map(([, v]) => v),
    connector,
  ];
  const optimizer = tf.train.adam(learningRate);
  const loss = (): tf.Scalar => {
    const hidden = model.forward({ inputsEmbeds: embeds, training: true }).hidden; // (B, T, H)
    const conditioning = tf.reshape(tf.slice(hidden, [0, 0, 0], [batch, patches, config.hiddenSize]), [
      m,
      config.hiddenSize,
    ]); // (M, H)
    const cond = linear(conditioning, connector); // (M, condChannels·p²)
    const column = tf.reshape(tau, [m, 1]);
    const xt = tf.add(tf.mul(tf.sub(1, column), x0), tf.mul(column, x1)); // (M, p²)
    const velocity = cnn.apply(xt, tau, cond);
    return tf.mean(tf.squaredDifference(velocity, tf.sub(x1, x0)));
  };
  try {
    return await timeSteps(
      () => optimizer.minimize(loss, true, variables)!,
      backboneStepFlops(config, batch, length) + cnnFlops(s),
    );
  } finally {
    optimizer.dispose();
    model.dispose();
    cnn.dispose();
    tf.dispose([connector, embeds, x0, x1, tau]);
  }
}

/** Where the PyTorch script is: pytorch_reference/ beside the bundle, or bench/_torch/ in a source checkout. */
function torchScript(): string | null {
  const here = typeof __dirname !== 'undefined' ? __dirname : path.join(process.cwd(), 'bench');
  const candidates = [path.join(here, 'pytorch_reference', 'gpu_step.py'), path.join(here, '_torch', 'gpu_step.py')];
  return candidates.find((p) => existsSync(p)) ?? null;
}

type TorchStatus = { available: true; device: string; version: string } | { available: false; reason: string };

function torchStatus(python: string): TorchStatus {
  const run = spawnSync(
    python,
    [
      '-c',
      'import json, torch; print(json.dumps({"version": torch.__version__, "cuda": torch.cuda.is_available(), "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (run.error) return { available: false, reason: `${python} could not be started (${run.error.message})` };
  if (run.status !== 0)
    return {
      available: false,
      reason: `${python} -c "import torch" failed: ${(run.stderr ?? '').trim().split('\n').pop() ?? `exit ${run.status}`}`,
    };
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
    version: string;
    cuda: boolean;
    device: string | null;
  };
  if (!report.cuda)
    return {
      available: false,
      reason: `PyTorch ${report.version} sees no CUDA device (torch.cuda.is_available() is False)`,
    };
  return { available: true, device: report.device ?? 'unknown', version: report.version };
}

interface TorchTimed {
  ms: number;
  gflops: number;
  loss: number;
  steps: number;
}

function runTorch(python: string, script: string, folder: string, flops: number): TorchTimed | { error: string } {
  const run = spawnSync(python, [script, folder, '1', String(iterations)], { encoding: 'utf8', timeout: 600_000 });
  const line = run.stdout?.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { loss: number; ms: number[] };
    const ms = median(parsed.ms);
    return { ms, gflops: flops / ms / 1e6, loss: parsed.loss, steps: parsed.ms.length };
  } catch {
    const why = run.signal
      ? `killed by ${run.signal}`
      : `exit ${run.status}: ${(run.stderr ?? run.error?.message ?? '').trim().split('\n').pop()}`;
    return { error: `the PyTorch step failed (${why})` };
  }
}

interface BackendReport {
  available: boolean;
  reason?: string;
  device?: string;
  regression: Record<string, Timed | { error: string }>;
  generation: Record<string, Timed | { error: string }>;
}

const gpuBackends = ['webgpu', 'cuda'] as const;

async function main(): Promise<void> {
  const python = process.env.L3M_PYTHON ?? 'python3';
  console.log(`L3M GPU check: Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.hostname()}`);
  const gpus = visibleNvidiaGpus();
  console.log(`NVIDIA GPUs visible: ${gpus.length > 0 ? gpus.join(', ') : 'none'}`);
  const probes: BackendProbe[] = await probeBackends();
  console.log('Backends:');
  for (const p of probes)
    console.log(`  ${p.name.padEnd(10)} ${p.available ? 'available' : 'unavailable'}: ${p.detail}`);

  const backends: Record<string, BackendReport> = {};
  const regressionShapesWanted = regressionShapes.filter((s) => !wantedShapes || wantedShapes.includes(s.id));
  const torch = torchStatus(python);
  const script = torchScript();
  const torchReport: {
    available: boolean;
    reason?: string;
    device?: string;
    version?: string;
    regression: Record<string, TorchTimed | { error: string }>;
  } = torch.available
    ? { available: true, device: torch.device, version: torch.version, regression: {} }
    : { available: false, reason: torch.reason, regression: {} };
  if (torch.available && !script) {
    torchReport.available = false;
    torchReport.reason =
      'gpu_step.py is missing beside the check (pytorch_reference/ in the bundle, bench/_torch/ in a checkout)';
  }
  console.log(
    `PyTorch: ${torchReport.available ? `${torchReport.version} on ${torchReport.device}` : `skipped: ${torchReport.reason}`}`,
  );

  for (const name of gpuBackends) {
    let selected: Awaited<ReturnType<typeof selectBackend>>;
    try {
      selected = await selectBackend(name, { allowSoftwareGpu });
    } catch (error) {
      backends[name] = { available: false, reason: errorMessage(error), regression: {}, generation: {} };
      console.log(`\n${name}: unavailable: ${errorMessage(error)}`);
      continue;
    }
    const report: BackendReport = { available: true, device: selected.device, regression: {}, generation: {} };
    backends[name] = report;
    console.log(`\n${name} on ${selected.device}:`);
    for (const s of regressionShapesWanted) {
      const folder =
        torchReport.available && name === gpuBackends.find((b) => backends[b]?.available)
          ? mkdtempSync(path.join(os.tmpdir(), 'l3m-gpu-check-'))
          : null;
      try {
        const timed = await regressionStep(s, folder);
        report.regression[s.id] = timed;
        console.log(
          `  regression (${s.id}) ${s.label}: ${timed.ms.toFixed(1)} ms/step, ${timed.gflops.toFixed(1)} GFLOP/s, loss ${timed.loss.toPrecision(6)}`,
        );
        if (folder && script) {
          const reference = runTorch(python, script, folder, backboneStepFlops(s.config, s.batch, s.length));
          torchReport.regression[s.id] = reference;
          if ('error' in reference) console.log(`    PyTorch: ${reference.error}`);
          else
            console.log(
              `    PyTorch ${reference.ms.toFixed(1)} ms/step (loss ${reference.loss.toPrecision(6)}): ${name} takes ${(timed.ms / reference.ms).toFixed(2)}× PyTorch's time`,
            );
        }
      } catch (error) {
        report.regression[s.id] = { error: errorMessage(error) };
        console.log(`  regression (${s.id}) failed: ${errorMessage(error)}`);
      } finally {
        if (folder) rmSync(folder, { recursive: true, force: true });
      }
    }
    for (const s of generationShapes) {
      try {
        const timed = await generationStep(s);
        report.generation[s.id] = timed;
        console.log(
          `  generation (${s.id}) ${s.label}: ${timed.ms.toFixed(1)} ms/step, ${timed.gflops.toFixed(1)} GFLOP/s, loss ${timed.loss.toPrecision(6)}`,
        );
      } catch (error) {
        report.generation[s.id] = { error: errorMessage(error) };
        console.log(`  generation (${s.id}) failed: ${errorMessage(error)}`);
      }
    }
  }
  const ratios: Record<string, Record<string, number>> = {};
  for (const [name, report] of Object.entries(backends)) {
    for (const [id, timed] of Object.entries(report.regression)) {
      const reference = torchReport.regression[id];
      if ('ms' in timed && reference && 'ms' in reference) (ratios[name] ??= {})[id] = timed.ms / reference.ms;
    }
  }
  console.log(
    JSON.stringify({
      check: 'l3m-gpu-check',
      node: process.version,
      nvidiaGpus: gpus,
      probes: probes.map(({ name, available, detail, device }) => ({ name, available, detail, device })),
      backends,
      torch: torchReport,
      ratioToTorch: ratios,
      quick,
      tiny,
      allowSoftwareGpu,
    }),
  );
  // Dawn keeps the process alive while its instance exists.
  process.exit(0);
}

void main().catch((error: unknown) => {
  console.error(`gpu-check failed: ${errorMessage(error)}`);
  process.exit(1);
});
