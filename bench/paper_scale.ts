// bench/paper_scale: the paper's generation setup at full size on this CPU machine, through the same commands a
// user runs (examples/generation-paper-scale-cpu.l3m.json: Qwen2.5-0.5B's shape with random weights, LoRA r = 8,
// 140 × 140 slices in 14 × 14 patches, windows of 12 slices = 1353 tokens, activations recomputed).
//
//   1. The memory estimate against the measured peak RSS of a training step at three smaller shapes.
//   2. `l3m train` until its first checkpoint, Ctrl-C, `l3m resume` to the end, `l3m sample` of one slice: each
//      one's wall time and peak RSS (/usr/bin/time), the step time, the checkpoint's size.
//   3. The same step in PyTorch on the same CPU (bench/_paper_scale/torch_paper_step.ts), when torch is installed.
//
//   npm run bench -- paper_scale [--steps N] [--accumulation K] [--threads T] [--no-torch] [--no-check] [--keep]
//
// --steps: optimizer steps of the run (default 3: the Ctrl-C sent at the first checkpoint is seen after the step under
// way, the second, so a resume has a step left only from 3 steps on; with fewer the run completes and is sampled);
// --accumulation: micro-batches of one window per step (default 1; the paper's batch of 8 is 8, and a step then
// takes 8 times as long); --threads: PyTorch threads (default 1, as the run's one worker).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveConfig } from '../schemas/resolve_config';
import { backboneShape } from '../schemas/backbone_shape';
import { estimateParameters } from '../schemas/config_estimates';
import { estimateTrainingMemory, formatBytes, trainingSequenceLength } from '../schemas/memory_estimate';
import { parseMetricsJsonl } from '../sidecar/protocol/run_folder';
import { torchPaperStep, type PaperStepShape } from './_paper_scale/torch_paper_step';
import { velocityChunkRows } from '../sidecar/tasks/generation/recomputed_velocity';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const steps = option('--steps', 3);
const accumulation = option('--accumulation', 1);
const torchThreads = option('--threads', 1);
const examplePath = resolve('examples/generation-paper-scale-cpu.l3m.json');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Smaller generation setups for the estimate's check: small, medium, medium with recomputation. */
const probeShapes: { name: string; config: Record<string, unknown> }[] = [
  {
    name: 'small (hidden 64, 2 blocks, 32² slices, batch 2)',
    config: probeConfig(64, 2, 4, 2, 128, 'test', 8, 6, 2, { channels: 16, blocks: 2 }, false),
  },
  {
    name: 'medium (hidden 256, 4 blocks, 70² slices, 12-slice windows)',
    config: probeConfig(256, 4, 4, 2, 704, 'half_paper', 14, 12, 1, { channels: 64, blocks: 6 }, false),
  },
  {
    name: 'medium-large, recomputed (hidden 448, 8 blocks, 70² slices)',
    config: probeConfig(448, 8, 7, 1, 2432, 'half_paper', 14, 12, 1, { channels: 64, blocks: 6 }, true),
  },
];

function probeConfig(
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  intermediate: number,
  preset: string,
  patch: number,
  window: number,
  batch: number,
  cnn: { channels: number; blocks: number },
  recompute: boolean,
): Record<string, unknown> {
  return {
    name: 'probe',
    task: 'generation',
    backbone: {
      source: 'random',
      finetune: 'lora',
      attention_dropout: 0.01,
      architecture: {
        hidden_size: hidden,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        num_key_value_heads: kvHeads,
        intermediate_size: intermediate,
        vocab_size: 151936,
      },
    },
    prompt: { template: 'chat' },
    head: { kind: 'cfm', ...cnn },
    data: {
      source: 'simulator',
      simulator: { preset, count: 3 },
      patch_size: patch,
      sublightcone: { length: window, context: 2 },
    },
    training: { batch_size: batch, recompute_activations: recompute },
  };
}

interface Timed {
  exitCode: number | null;
  wallSeconds: number;
  peakRssBytes: number;
  stderrTail: string;
}

/** Runs `node dist/sidecar.js …` under /usr/bin/time -v; `interruptWhen` sends Ctrl-C once it returns true. */
async function timedL3m(l3mArgs: string[], env: NodeJS.ProcessEnv, interruptWhen?: () => boolean): Promise<Timed> {
  const timeFile = join(tmpdir(), `l3m-paper-scale-time-${process.pid}-${Date.now()}`);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, process.execPath, 'dist/sidecar.js', ...l3mArgs], {
    env,
    detached: true, // its own process group: Ctrl-C reaches l3m (GNU time ignores SIGINT while it waits)
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    process.stderr.write(chunk);
  });
  let interrupted = false;
  const poll = setInterval(() => {
    if (!interrupted && interruptWhen?.()) {
      interrupted = true;
      process.kill(-child.pid!, 'SIGINT');
    }
  }, 2000);
  const exitCode = await new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  clearInterval(poll);
  const timeText = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : '';
  rmSync(timeFile, { force: true });
  const peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timeText)?.[1] ?? NaN);
  return {
    exitCode,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssBytes: peakKb * 1024,
    stderrTail: stderr,
  };
}

/** Bytes of the files one checkpoint's manifest names (its data files are named by content hash). */
function checkpointBytes(checkpoints: string, manifest: string): number {
  const text = readFileSync(join(checkpoints, manifest), 'utf8');
  const names = new Set<string>();
  JSON.stringify(JSON.parse(text), (_key, value: unknown) => {
    if (typeof value === 'string' && value !== manifest && existsSync(join(checkpoints, value))) names.add(value);
    return value;
  });
  return [...names].reduce(
    (sum, name) => sum + statSync(join(checkpoints, name)).size,
    statSync(join(checkpoints, manifest)).size,
  );
}

function onlyRunDir(runsDir: string): string {
  const experiment = join(runsDir, 'generation-paper-scale-cpu');
  const runs = readdirSync(experiment).filter((n) => !n.startsWith('.'));
  if (runs.length !== 1) throw new Error(`expected one run under ${experiment}, found ${runs.length}`);
  return join(experiment, runs[0]);
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = { bench: 'paper_scale', steps, accumulation };
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--no-typecheck'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr.slice(-2000)}`);

  if (!args.includes('--no-check')) {
    console.log('Memory estimate against the measured peak RSS of two training steps (wasm, one process each):');
    const checks: Record<string, unknown>[] = [];
    for (const probe of probeShapes) {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/_paper_scale/memory_probe.ts', JSON.stringify(probe.config)],
        { encoding: 'utf8', timeout: 1_200_000 },
      );
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || !line.startsWith('{')) {
        console.log(`  ${probe.name}: failed (${run.stderr.slice(-500)})`);
        continue;
      }
      const r = JSON.parse(line) as { peakRssBytes: number; estimateBytes: number; sequenceLength: number };
      const error = (r.estimateBytes - r.peakRssBytes) / r.peakRssBytes;
      console.log(
        `  ${probe.name}, ${r.sequenceLength} tokens: estimate ${mib(r.estimateBytes)}, measured ${mib(r.peakRssBytes)} (${error >= 0 ? '+' : ''}${(error * 100).toFixed(0)}%)`,
      );
      checks.push({ shape: probe.name, ...r, relativeError: error });
    }
    figures.memoryCheck = checks;
  }

  const workspace = mkdtempSync(join(tmpdir(), 'l3m-paper-scale-'));
  try {
    writeFileSync(join(workspace, 'package.json'), '{"private": true}\n');
    const raw = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw.training = { ...raw.training, steps, gradient_accumulation_steps: accumulation, checkpoint_every: 1 };
    raw.evaluation = { ...raw.evaluation, every: steps };
    const configPath = join(workspace, 'generation-paper-scale-cpu.l3m.json');
    writeFileSync(configPath, JSON.stringify(raw, null, 2));
    const config = resolveConfig(raw);
    const shape = backboneShape(config)!;
    const parameters = estimateParameters(config, shape);
    const estimate = estimateTrainingMemory(config, shape, parameters)!;
    console.log(
      `\nThe paper's generation setup: ${(parameters.total / 1e6).toFixed(0)}M parameters (${(parameters.trainable / 1e6).toFixed(2)}M trained), ` +
        `${trainingSequenceLength(config)} tokens a window, micro-batch ${config.training.batch_size} × ${accumulation} accumulated, ` +
        `recomputed activations; estimate ${formatBytes(estimate.totalBytes)} (tensors ${formatBytes(estimate.tensorBytes)} of the wasm heap's 4 GiB).`,
    );
    const runsDir = join(workspace, 'runs');
    const env = { ...process.env, L3M_RUNS_DIR: runsDir };
    // Interrupt once the first checkpoint is written; the run stops after the step under way, resumable.
    const firstCheckpoint = () => {
      try {
        return readdirSync(join(onlyRunDir(runsDir), 'checkpoints')).some((n) => /^step-0*1\.json$/.test(n));
      } catch {
        return false;
      }
    };
    const train = await timedL3m(['train', configPath, '--runs-dir', runsDir], env, firstCheckpoint);
    const runDir = onlyRunDir(runsDir);
    console.log(
      `l3m train (interrupted after the first checkpoint): exit ${train.exitCode}, ${train.wallSeconds.toFixed(0)} s, peak RSS ${mib(train.peakRssBytes)}`,
    );
    // A run that failed (out of memory) is not resumed: it would fail the same way. One that completed before the
    // Ctrl-C was seen (fewer than 3 steps) has nothing to resume and is sampled as it is.
    const trained = train.exitCode === 0 || train.exitCode === 4;
    if (train.exitCode === 0) console.log('The run completed before the interrupt was seen; no resume.');
    const resume = train.exitCode === 4 ? await timedL3m(['resume', runDir], env) : null;
    if (resume)
      console.log(
        `l3m resume: exit ${resume.exitCode}, ${resume.wallSeconds.toFixed(0)} s, peak RSS ${mib(resume.peakRssBytes)}`,
      );
    const sample =
      resume?.exitCode === 0 || train.exitCode === 0
        ? await timedL3m(['sample', runDir, '--slices', '1', '--context', '5'], env)
        : null;
    if (sample)
      console.log(
        `l3m sample (one slice after 5 context slices): exit ${sample.exitCode}, ${sample.wallSeconds.toFixed(0)} s, peak RSS ${mib(sample.peakRssBytes)}`,
      );
    if (!trained)
      console.log(`Training failed: ${train.stderrTail.trim().split('\n').slice(-2).join(' ')}; no resume or sample.`);

    const metricsPath = join(runDir, 'metrics.jsonl');
    const metrics = existsSync(metricsPath) ? parseMetricsJsonl(readFileSync(metricsPath, 'utf8')).records : [];
    const trainRecords = metrics.filter((m) => m.split === 'train');
    const stepRates = trainRecords.map((m) => m.steps_per_s).filter((v): v is number => typeof v === 'number' && v > 0);
    const stepSeconds = stepRates.length > 0 ? 1 / stepRates[stepRates.length - 1] : NaN;
    const checkpoints = join(runDir, 'checkpoints');
    const manifests = existsSync(checkpoints) ? readdirSync(checkpoints).filter((n) => /^step-\d+\.json$/.test(n)) : [];
    const checkpointSize = manifests.length > 0 ? checkpointBytes(checkpoints, manifests[manifests.length - 1]) : NaN;
    console.log(
      `Step time ${stepSeconds.toFixed(0)} s (${accumulation} micro-batch${accumulation > 1 ? 'es' : ''} of one window; the resumed session's mean, checkpoint included), ` +
        `checkpoint ${mib(checkpointSize)}, final loss ${String(trainRecords[trainRecords.length - 1]?.loss)}`,
    );
    figures.run = {
      estimateBytes: estimate.totalBytes,
      tensorEstimateBytes: estimate.tensorBytes,
      train,
      resume,
      sample,
      stepSeconds,
      checkpointBytes: checkpointSize,
      losses: trainRecords.map((m) => m.loss),
    };

    if (!args.includes('--no-torch')) {
      const side = 140 / config.data.patch_size;
      const torchShape: PaperStepShape = {
        hidden: shape.hidden_size,
        layers: shape.num_hidden_layers,
        heads: shape.num_attention_heads,
        kvHeads: shape.num_key_value_heads,
        intermediate: shape.intermediate_size,
        vocab: shape.vocab_size,
        rank: config.backbone.lora.rank,
        n: side * config.data.patch_size,
        patchSize: config.data.patch_size,
        window: config.data.sublightcone.length,
        context: config.data.sublightcone.context,
        prefix: trainingSequenceLength(config)! - config.data.sublightcone.length * (side * side + side + 1),
        batch: 1,
        cnn: {
          channels: 64,
          blocks: 6,
          chunkRows: velocityChunkRows({
            patchSize: config.data.patch_size,
            channels: 64,
            blocks: 6,
            residualFactor: 2,
          }),
        },
      };
      const torch = torchPaperStep(torchShape, torchThreads, 1, 3600);
      if ('skipped' in torch) console.log(`PyTorch: skipped (${torch.skipped})`);
      else
        console.log(
          `PyTorch ${torch.torch} at ${torch.threads} thread(s), same shapes and checkpointing, one window: step ${torch.stepSeconds.toFixed(0)} s ` +
            `(first ${torch.firstStepSeconds.toFixed(0)} s), peak RSS ${mib(torch.peakRssBytes)}, ${(torch.trained / 1e6).toFixed(2)}M trained; ` +
            `L3M's step is ${(stepSeconds / accumulation / torch.stepSeconds).toFixed(1)}× PyTorch's per window`,
        );
      figures.torch = torch;
    }
  } finally {
    if (args.includes('--keep')) console.error(`Kept ${workspace}`);
    else rmSync(workspace, { recursive: true, force: true });
  }
  console.log(JSON.stringify(figures));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
