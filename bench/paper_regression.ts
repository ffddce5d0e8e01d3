// The paper's regression orderings in small form, on the simulated quickstart dataset (cached after
// the first `l3m train` / bench run):
//  1. a FROZEN random Qwen2-shaped backbone (only the two connectors and <|ska-param|> train,
//     interleaved as the paper) vs the small reference network trained from scratch with about the
//     same number of trainable parameters (Table 2 style: non-causal, minimal template, joint updates);
//  2. the frozen random backbone at depth 1 / 2 / 4 / 8 blocks (paper Fig. 5).
// Each configuration trains with 3 seeds (model init and batch order); the figure is the best
// validation loss (Eq. 34 convention: (NLL − 3·log 2π)/6, lower is better) and the validation NLL in
// nats, mean ± standard deviation over the seeds. The reference in the same run is the reference
// network, and the prior (uniform: loss −0.919, NLL 0). We print what we find, whichever way it goes.
//   npm run bench -- paper_regression [--steps N] [--hidden H] [--seeds K] [--val-fraction F] [--config cfg.l3m.json (its data)]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfigFile } from '../schemas/load_config';
import { qwen2Config, type Qwen2Config } from '../sidecar/model/qwen2_config';
import { Qwen2Model } from '../sidecar/model/qwen2_model';
import { selectBackend } from '../sidecar/runtime/backends';
import { buildPrompt } from '../sidecar/tasks/regression/prompt_template';
import { openDataset } from '../sidecar/data/dataset';
import { loadRegressionData } from '../sidecar/tasks/regression/regression_data';
import { RegressionModel } from '../sidecar/tasks/regression/regression_model';
import { RegressionTask, type RegressionData } from '../sidecar/tasks/regression/regression_task';
import { runLoop, stepsPerEpochFor, type LoopSettings } from '../sidecar/train/training_loop';
import { epochOrder, hashSeed } from '../sidecar/train/seeded_random';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const steps = option('--steps', 240);
const hidden = option('--hidden', 64);
const seeds = option('--seeds', 3);
const configPath = resolve(
  args.includes('--config') ? args[args.indexOf('--config') + 1] : 'examples/quickstart-regression.l3m.json',
);

interface Variant {
  name: string;
  kind: 'frozen' | 'reference';
  config: Qwen2Config;
}
interface Outcome {
  bestLoss: number;
  bestNll: number;
  trainable: number;
  seconds: number;
}

function qwenShaped(layers: number): Qwen2Config {
  // Qwen2.5-0.5B proportions: 14 query / 2 KV heads and an MLP 5.4× the width; here 4 / 2 heads.
  return qwen2Config({
    vocabSize: 16,
    hiddenSize: hidden,
    numHiddenLayers: layers,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    intermediateSize: Math.round((hidden * 4864) / 896 / 8) * 8,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    causal: true,
  });
}

function buildModel(variant: Variant, seed: number): RegressionModel {
  const backbone = Qwen2Model.random(variant.config, hashSeed(seed, 0xb0b) & 0x7fffffff);
  return new RegressionModel(backbone, {
    prompt: buildPrompt({ template: 'minimal', systemTokens: 0, lightconeTokens: 0, chatIds: null }),
    inputConnector: { kind: 'linear', depth: 1, width: 64 },
    headDepth: 0,
    headWidth: 64,
    covariance: 'full',
    finetune: variant.kind === 'frozen' ? 'frozen' : 'scratch',
    seed: hashSeed(seed, 0xc0) & 0xffffff,
  });
}

/** The reference network whose trainable parameter count is closest to `target`. */
function matchedReference(target: number): { config: Qwen2Config; count: number } {
  let best: { config: Qwen2Config; count: number } | null = null;
  for (const width of [4, 8, 12, 16]) {
    for (const layers of [1, 2, 3]) {
      for (const factor of [1, 2, 4]) {
        const config = qwen2Config({
          vocabSize: 1,
          hiddenSize: width,
          numHiddenLayers: layers,
          numAttentionHeads: 2,
          numKeyValueHeads: 2,
          intermediateSize: width * factor,
          ropeTheta: 10000,
          tieWordEmbeddings: true,
          causal: false,
        });
        const model = buildModel({ name: '', kind: 'reference', config }, 0);
        const count = model.trainableParameterCount();
        model.dispose();
        if (!best || Math.abs(count - target) < Math.abs(best.count - target)) best = { config, count };
      }
    }
  }
  return best!;
}

async function train(variant: Variant, seed: number, data: RegressionData): Promise<Outcome> {
  const model = buildModel(variant, seed);
  const task = new RegressionTask(model, data, {
    interleaved: variant.kind === 'frozen',
    weightDecay: 0,
    evalBatchSize: 16,
    lrRatios: { lightcone_connector: 1, special_tokens: 1, head: 1, backbone: 1 },
  });
  const batchSize = 8;
  const settings: LoopSettings = {
    lr: 3e-3,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    batchSize,
    accumulation: 1,
    stepsPerEpoch: stepsPerEpochFor(task.trainSize, 1, batchSize, 1),
    totalSteps: steps,
    schedule: {
      warmup: Math.round(steps * 0.05),
      stable: steps - Math.round(steps * 0.05) - Math.round(steps * 0.3),
      decay: Math.round(steps * 0.3),
    },
    maxGradNorm: 30,
    seed,
    multiplicity: 1,
    validateEvery: Math.max(1, Math.round(steps / 8)),
    checkpointEvery: 0,
    keepCheckpoints: 1,
    earlyStopping: { enabled: false, patience: 5, minDelta: 0 },
    logEvery: steps,
  };
  const dir = mkdtempSync(join(tmpdir(), 'l3m-bench-paper-'));
  let bestLoss = Infinity;
  let bestNll = Infinity;
  const start = performance.now();
  try {
    await runLoop(task, settings, {
      signal: new AbortController().signal,
      checkpointDir: dir,
      backboneConfig: variant.config,
      metrics: (records) => {
        for (const r of records) {
          if (r.split === 'val' && (r.loss as number) < bestLoss) {
            bestLoss = r.loss as number;
            bestNll = r.nll as number;
          }
        }
        return Promise.resolve();
      },
      progress: () => undefined,
      log: () => undefined,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const trainable = model.trainableParameterCount();
  model.dispose();
  return { bestLoss, bestNll, trainable, seconds: (performance.now() - start) / 1000 };
}

/**
 * Pools every lightcone and splits it again with a larger validation share: a comparison of validation
 * losses needs more than the handful of validation lightcones a quickstart config keeps. The
 * standardisation of the tokens stays the one fitted on the config's training split.
 */
function resplit(data: RegressionData, validationFraction: number): RegressionData {
  const all = [data.train, data.validation, data.test];
  const ids = all.flatMap((s) => s.ids);
  const tokens = new Float32Array(ids.length * data.tokenCount);
  const targets = new Float32Array(ids.length * 6);
  let row = 0;
  for (const split of all) {
    tokens.set(split.tokens, row * data.tokenCount);
    targets.set(split.targets, row * 6);
    row += split.ids.length;
  }
  const order = epochOrder(42, 0, ids.length);
  const validationCount = Math.round(ids.length * validationFraction);
  const pick = (indices: Int32Array) => ({
    ids: Array.from(indices, (i) => ids[i]),
    tokens: Float32Array.from(
      { length: indices.length * data.tokenCount },
      (_, k) => tokens[indices[Math.floor(k / data.tokenCount)] * data.tokenCount + (k % data.tokenCount)],
    ),
    targets: Float32Array.from(
      { length: indices.length * 6 },
      (_, k) => targets[indices[Math.floor(k / 6)] * 6 + (k % 6)],
    ),
  });
  const empty = { ids: [], tokens: new Float32Array(0), targets: new Float32Array(0) };
  return {
    tokenCount: data.tokenCount,
    train: pick(order.subarray(validationCount)),
    validation: pick(order.subarray(0, validationCount)),
    test: empty,
  };
}

const meanStd = (values: number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std };
};

async function main(): Promise<void> {
  const backend = await selectBackend('auto');
  const loaded = await loadConfigFile(configPath, 'run');
  if (!loaded.config) throw new Error(`${configPath} has errors.`);
  const dataset = await openDataset(loaded.config.data, {
    configDir: resolve(configPath, '..'),
    onProgress: (e) => {
      if (e.kind === 'started') console.log(`Simulating ${e.count} lightcones (first run only)…`);
    },
  });
  const data = resplit((await loadRegressionData(loaded.config, dataset)).data, option('--val-fraction', 1 / 3));
  await dataset.source.close();
  console.log(
    `paper_regression: ${data.train.ids.length} train / ${data.validation.ids.length} validation lightcones, ${data.tokenCount} global-signal tokens`,
  );
  console.log(
    `backend ${backend.name} (${backend.device}), ${availableParallelism()} cores; ${steps} steps, batch 8, ${seeds} seeds; frozen backbones hidden ${hidden}`,
  );

  const frozenProbe = buildModel({ name: '', kind: 'frozen', config: qwenShaped(1) }, 0);
  const target = frozenProbe.trainableParameterCount();
  frozenProbe.dispose();
  const reference = matchedReference(target);
  const variants: Variant[] = [
    ...[1, 2, 4, 8].map((layers): Variant => ({
      name: `frozen random Qwen2, ${layers} block${layers > 1 ? 's' : ''}`,
      kind: 'frozen',
      config: qwenShaped(layers),
    })),
    {
      name: `reference net (hidden ${reference.config.hiddenSize}, ${reference.config.numHiddenLayers} blocks, MLP ${reference.config.intermediateSize})`,
      kind: 'reference',
      config: reference.config,
    },
  ];
  const results: Record<
    string,
    {
      trainable: number;
      loss: { mean: number; std: number };
      nll: { mean: number; std: number };
      seconds: number;
      losses: number[];
    }
  > = {};
  for (const variant of variants) {
    const outcomes: Outcome[] = [];
    for (let s = 0; s < seeds; s++) outcomes.push(await train(variant, 1000 + s, data));
    const loss = meanStd(outcomes.map((o) => o.bestLoss));
    const nll = meanStd(outcomes.map((o) => o.bestNll));
    results[variant.name] = {
      trainable: outcomes[0].trainable,
      loss,
      nll,
      seconds: outcomes.reduce((a, o) => a + o.seconds, 0),
      losses: outcomes.map((o) => o.bestLoss),
    };
    console.log(
      `  ${variant.name.padEnd(52)} trainable ${String(outcomes[0].trainable).padStart(6)}  val loss ${loss.mean.toFixed(3)} ± ${loss.std.toFixed(3)}  ` +
        `NLL ${nll.mean.toFixed(2)} ± ${nll.std.toFixed(2)} nats  (${results[variant.name].seconds.toFixed(0)} s)`,
    );
  }
  const uniformLoss = -0.5 * Math.log(2 * Math.PI);
  const frozen1 = results[variants[0].name];
  const ref = results[variants[4].name];
  console.log('');
  console.log(`Prior (uniform): val loss ${uniformLoss.toFixed(3)}, NLL 0 nats.`);
  const separated = (a: { mean: number; std: number }, b: { mean: number; std: number }) =>
    Math.abs(a.mean - b.mean) > a.std + b.std;
  console.log(
    `Frozen 1-block backbone vs matched reference net: Δloss = ${(frozen1.loss.mean - ref.loss.mean).toFixed(3)} ` +
      `(${frozen1.loss.mean < ref.loss.mean ? 'frozen backbone better' : 'reference net better'}; ${separated(frozen1.loss, ref.loss) ? 'beyond' : 'within'} the seed spread)`,
  );
  const depth = [1, 2, 4, 8].map((_, i) => results[variants[i].name].loss);
  const monotone = depth.every((v, i) => i === 0 || v.mean <= depth[i - 1].mean);
  console.log(
    `Depth 1/2/4/8: val loss ${depth.map((v) => v.mean.toFixed(3)).join(' / ')} (${monotone ? 'decreasing' : 'not monotone'} in depth; ` +
      `1 vs 8 blocks ${separated(depth[0], depth[3]) ? 'beyond' : 'within'} the seed spread)`,
  );
  const beatsPrior = Object.entries(results)
    .filter(([, r]) => r.nll.mean < 0)
    .map(([name]) => name);
  console.log(
    `Below the uniform prior's NLL (0 nats): ${beatsPrior.length > 0 ? beatsPrior.join('; ') : 'none of them at this data size and training length'}`,
  );
  tf.disposeVariables();
  console.log(
    JSON.stringify({
      bench: 'paper_regression',
      backend: backend.name,
      cores: availableParallelism(),
      steps,
      seeds,
      hidden,
      uniform_prior_loss: uniformLoss,
      results,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
