// The quickstart generation (examples/quickstart-generation.l3m.json) on the built-in simulator, end
// to end through prepareRun/runTraining as `l3m train` runs it: wall time (dataset simulation vs
// training vs evaluation, on this machine's cores), the validation CFM loss, and the test next-patch
// scores beside its two baselines measured in the same run on the same windows: the same patch of the
// previous (true) slice, and the mean training patch. The model's samples are scored by MSE (the
// reference's metric; a perfect sampler scores 2·Var(x | past)) and by CRPS (a proper score of the
// predictive distribution; a point forecast's CRPS is its MAE), and its point forecasts (the mean of
// the samples, and the τ = 0 conditional mean) by MSE like the two point baselines
// (next_patch_evaluation.ts explains why).
// Goal: the model below both baselines — its point forecast in MSE and its samples in CRPS — within the time
// budget (--budget seconds of training, default 900) on 2 CPU cores: a model that cannot beat copying the
// previous slice has learned nothing a user can see.
// The quickstart trains twice in the same run, on 1 data-parallel worker and on every core's (L3M_THREADS, as
// runtime.threads 0 gives), for the wall time of each; the scores are those of the all-workers run (the
// default), with the 1-worker run's sample MSE beside them.
//   npm run bench -- quickstart_generation [--config path] [--budget s] [--keep]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseMetricsJsonl } from '../sidecar/protocol/run_folder';
import { prepareRun, runTraining } from '../sidecar/jobs/train_job';
import type { NextPatchEvaluation } from '../sidecar/tasks/generation/next_patch_evaluation';
import { nextPatchTable, nextPatchVerdict } from '../sidecar/tasks/generation/next_patch_report';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const configPath = resolve(option('--config') ?? 'examples/quickstart-generation.l3m.json');
const budgetSeconds = Number(option('--budget') ?? 900);

async function main(): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-quickstart-gen-'));
  try {
    const cores = availableParallelism();
    const single = await trainWith(1, runsDir);
    const { runDir, outcome, total, training } = await trainWith(cores, runsDir);
    const singleEvaluation = JSON.parse(
      readFileSync(join(single.runDir, 'eval', 'next_patch.json'), 'utf8'),
    ) as NextPatchEvaluation;
    console.log(
      `Wall time, same machine, same run: 1 worker ${single.total.toFixed(0)} s (training ${single.training.toFixed(0)} s); ` +
        `${cores} workers ${total.toFixed(0)} s (training ${training.toFixed(0)} s): ${(single.training / training).toFixed(2)}× faster training`,
    );
    console.log(
      `Sample MSE: 1 worker ${singleEvaluation.model.mse.toFixed(5)}, ${cores} workers (below) — the same science, other rounding`,
    );
    const metrics = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records;
    const validation = metrics.filter((r) => r.split === 'val');
    const evaluation = JSON.parse(readFileSync(join(runDir, 'eval', 'next_patch.json'), 'utf8')) as NextPatchEvaluation;
    const verdict = nextPatchVerdict(evaluation);
    console.log(`Quickstart generation (${configPath}), ${outcome}, ${availableParallelism()} cores visible`);
    console.log(
      `  wall time ${total.toFixed(0)} s: training ${training.toFixed(0)} s (budget ${budgetSeconds} s), the rest simulation/loading and evaluation`,
    );
    console.log(
      `  validation CFM loss: ${validation.map((r) => `step ${r.step} ${(r.loss as number).toFixed(4)}`).join(', ')}`,
    );
    console.log(nextPatchTable(evaluation));
    const { previousSlice, meanPatch } = evaluation.baselines;
    for (const point of verdict.pointForecasts) {
      console.log(
        `  model ${point.name} / previous slice: ${(point.mse / previousSlice.mse).toFixed(2)}, / mean patch: ${(point.mse / meanPatch.mse).toFixed(2)} (MSE)`,
      );
    }
    if (evaluation.crps.model) {
      console.log(
        `  model CRPS / previous slice: ${(evaluation.crps.model.mean / evaluation.crps.previousSlice.mean).toFixed(2)}, / mean patch: ${(evaluation.crps.model.mean / evaluation.crps.meanPatch.mean).toFixed(2)}`,
      );
    }
    const inBudget = training <= budgetSeconds;
    const met = verdict.pointBeatsBoth && verdict.crpsBeatsBoth === true;
    console.log(
      `  goal: point forecasts below both baselines ${verdict.pointBeatsBoth ? 'MET' : 'NOT met'}; sample CRPS below both ${verdict.crpsBeatsBoth ? 'MET' : 'NOT met'} ` +
        `(sample MSE ${verdict.samplesBeatBoth ? 'also' : 'not'} below both); training within budget ${inBudget ? 'MET' : 'NOT met'}`,
    );
    console.log(
      JSON.stringify({
        bench: 'quickstart_generation',
        outcome,
        workers: cores,
        wallSeconds: total,
        trainingSeconds: training,
        oneWorker: {
          wallSeconds: single.total,
          trainingSeconds: single.training,
          sampleMse: singleEvaluation.model.mse,
        },
        budgetSeconds,
        validationLoss: validation.map((r) => ({ step: r.step, loss: r.loss })),
        windows: evaluation.windows,
        samplesPerPatch: evaluation.samplesPerPatch,
        sampleMse: evaluation.model.mse,
        sampleMseSem: evaluation.model.sem,
        ensembleMeanMse: evaluation.ensembleMean?.mse ?? null,
        meanForecastMse: evaluation.conditionalMean.mse,
        previousSliceMse: previousSlice.mse,
        meanPatchMse: meanPatch.mse,
        sampleCrps: evaluation.crps.model?.mean ?? null,
        previousSliceCrps: evaluation.crps.previousSlice.mean,
        meanPatchCrps: evaluation.crps.meanPatch.mean,
        spreadRatio: verdict.spreadRatio,
        pointBeatsBothBaselines: verdict.pointBeatsBoth,
        crpsBeatsBothBaselines: verdict.crpsBeatsBoth,
        samplesBeatBothBaselines: verdict.samplesBeatBoth,
        goalMet: met && inBudget,
        withinBudget: inBudget,
      }),
    );
  } finally {
    if (args.includes('--keep')) console.error(`kept ${runsDir}`);
    else rmSync(runsDir, { recursive: true, force: true });
  }
}

/** One training run of the quickstart on `workers` data-parallel workers: its folder, outcome and wall times. */
async function trainWith(workers: number, runsDir: string) {
  process.env.L3M_THREADS = String(workers);
  const started = performance.now();
  const { runDir } = await prepareRun(configPath, runsDir);
  let trainingStarted = 0;
  let trainingEnded = 0;
  let lastPhase = '';
  const outcome = await runTraining({
    runDir,
    signal: new AbortController().signal,
    events: {
      progress: (p) => {
        if (p.phase === undefined) {
          if (trainingStarted === 0) trainingStarted = performance.now();
          trainingEnded = performance.now();
          if (p.step % 50 === 0 || p.step === p.totalSteps)
            console.error(
              `[${workers} workers] step ${p.step}/${p.totalSteps} loss ${p.loss?.toFixed(4)} (${p.stepsPerSecond.toFixed(2)} steps/s)`,
            );
        } else if (p.phase.split(' ')[0] !== lastPhase) {
          lastPhase = p.phase.split(' ')[0];
          console.error(p.phase);
        }
      },
      metrics: () => undefined,
      log: (level, message) => console.error(`${level}: ${message}`),
    },
  });
  return {
    runDir,
    outcome,
    total: (performance.now() - started) / 1000,
    training: (trainingEnded - trainingStarted) / 1000,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
