// The quickstart regression (examples/quickstart-regression.l3m.json) on the built-in simulator, end
// to end through prepareRun/runTraining as `l3m train` runs it: wall time (dataset simulation vs
// training, on this machine's cores), the validation NLL against the NLL of predicting the prior, and
// R² per parameter on the test split. The reference in the same run is the prior itself, two ways:
// the uniform prior on the normalised unit cube (NLL 0 nats) and the best Gaussian fitted to the
// training labels (their mean and covariance), evaluated on the same validation lightcones.
// Goal: validation NLL clearly below the prior's, positive R² for Ω_m, T_vir and ζ, < 2 min on 2 CPU cores,
// so that the quickstart shows learning within a user's first session.
// The quickstart trains twice in the same run, on 1 data-parallel worker and on every core's (L3M_THREADS, as
// runtime.threads 0 gives), for the wall time of each; the figures below them are the all-workers run's (the
// default), with the 1-worker run's best validation NLL beside them.
//   npm run bench -- quickstart_regression [--config path] [--keep]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../schemas/load_config';
import { parameterNames } from '../sidecar/data/parameters';
import { parseMetricsJsonl, parseRunRecord, type MetricRecord } from '../sidecar/protocol/run_folder';
import { openDataset } from '../sidecar/data/dataset';
import { loadRegressionData } from '../sidecar/tasks/regression/regression_data';
import { prepareRun, runTraining } from '../sidecar/jobs/train_job';

const args = process.argv.slice(2);
const configPath = resolve(
  args.includes('--config') ? args[args.indexOf('--config') + 1] : 'examples/quickstart-regression.l3m.json',
);

/** NLL (nats) of a Gaussian with the train labels' mean and covariance, averaged over `rows`. */
function gaussianPriorNll(train: Float32Array, rows: Float32Array): number {
  const d = 6;
  const n = train.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) mean[p] += train[i * d + p] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < d; p++)
      for (let q = 0; q < d; q++) cov[p * d + q] += ((train[i * d + p] - mean[p]) * (train[i * d + q] - mean[q])) / n;
  // Cholesky of the covariance: log det and solves.
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = cov[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = i === j ? Math.sqrt(s) : s / L[j * d + j];
    }
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += 2 * Math.log(L[i * d + i]);
  const m = rows.length / d;
  let total = 0;
  for (let r = 0; r < m; r++) {
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = rows[r * d + i] - mean[i];
      for (let k = 0; k < i; k++) s -= L[i * d + k] * z[k];
      z[i] = s / L[i * d + i];
    }
    const quad = z.reduce((a, b) => a + b * b, 0);
    total += 0.5 * quad + 0.5 * logDet + 0.5 * d * Math.log(2 * Math.PI);
  }
  return total / m;
}

async function main(): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-bench-quickstart-'));
  const loaded = await loadConfigFile(configPath, 'run');
  if (!loaded.config) throw new Error(`${configPath} has errors; run "l3m validate ${configPath}".`);
  console.log(`Quickstart regression: ${configPath}`);
  console.log(`Cores: ${availableParallelism()}; runs in ${runsDir}`);

  const cores = availableParallelism();
  const single = await trainWith(1, runsDir);
  const {
    runDir,
    device,
    totalSeconds,
    dataSeconds,
    trainingSeconds,
    dataCpu,
    trainingCpu,
    cpuTotalSeconds,
    fromCache,
  } = await trainWith(cores, runsDir);
  const singleBest = bestValidation(single.runDir);
  console.log(
    `Wall time, same machine, same run: 1 worker ${single.totalSeconds.toFixed(1)} s (training + evaluation ${single.trainingSeconds.toFixed(1)} s); ` +
      `${cores} workers ${totalSeconds.toFixed(1)} s (training + evaluation ${trainingSeconds.toFixed(1)} s): ` +
      `${(single.trainingSeconds / trainingSeconds).toFixed(2)}× faster training`,
  );
  // CPU time counts every thread of the process and not the time spent waiting for a core: on a shared machine
  // it tells how the work divides where the wall time tells how much of the machine the run got.
  console.log(
    `CPU time of training + evaluation: 1 worker ${single.trainingCpu.toFixed(1)} s, ${cores} workers ${trainingCpu.toFixed(1)} s ` +
      `(wall/CPU ${(single.trainingSeconds / single.trainingCpu).toFixed(2)} and ${(trainingSeconds / trainingCpu).toFixed(2)}: above 1 means waiting for a core)`,
  );
  console.log(
    `Best validation NLL: 1 worker ${(singleBest.nll as number).toFixed(4)} @ ${singleBest.step}, ${cores} workers below — the same science, other rounding`,
  );

  const { records } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  const bestVal = bestValidation(runDir);
  const test = records.find((r) => r.split === 'test')!;
  const train = records.filter((r) => r.split === 'train');

  // The Gaussian prior baseline on the same (cached) data and split.
  const dataset = await openDataset(loaded.config.data, { configDir: resolve(configPath, '..') });
  const data = (await loadRegressionData(loaded.config, dataset)).data;
  await dataset.source.close();
  const priorVal = gaussianPriorNll(data.train.targets, data.validation.targets);
  const priorTest = gaussianPriorNll(data.train.targets, data.test.targets);

  console.log('');
  console.log(`Backend: ${device.backend} (${device.device})`);
  const manifestSimulated = fromCache ? 'read from the cache' : 'simulated (cold cache)';
  console.log(`Wall time: ${totalSeconds.toFixed(1)} s total (goal < 120 s on two cores, cold cache)`);
  console.log(`  data ${manifestSimulated}: ${dataSeconds.toFixed(1)} s wall, ${dataCpu.toFixed(1)} s CPU`);
  console.log(
    `  training + evaluation: ${trainingSeconds.toFixed(1)} s wall, ${trainingCpu.toFixed(1)} s CPU ` +
      `(${train.length > 0 ? (train[train.length - 1].steps_per_s as number).toFixed(1) : '?'} steps/s, ${train.length > 0 ? train[train.length - 1].step : 0} steps)`,
  );
  console.log(
    `  CPU time / wall time: ${(cpuTotalSeconds / totalSeconds).toFixed(2)} (2.0 = both cores busy; lower means the machine was shared)`,
  );
  console.log(
    `Lightcones: ${data.train.ids.length} train / ${data.validation.ids.length} validation / ${data.test.ids.length} test`,
  );
  console.log('');
  console.log('NLL per lightcone (nats, lower is better)     validation   test');
  console.log(
    `  model (best validation, step ${bestVal.step})            ${(bestVal.nll as number).toFixed(3).padStart(8)}   ${(test.nll as number).toFixed(3).padStart(6)}`,
  );
  console.log(
    `  uniform prior                                 ${(0).toFixed(3).padStart(8)}   ${(0).toFixed(3).padStart(6)}`,
  );
  console.log(
    `  Gaussian fit to the training labels           ${priorVal.toFixed(3).padStart(8)}   ${priorTest.toFixed(3).padStart(6)}`,
  );
  console.log(`  model − uniform prior: ${(bestVal.nll as number).toFixed(3)} nats (validation)`);
  console.log('');
  console.log('Test split, per parameter:   R²      68% cover  95% cover');
  for (const name of parameterNames) {
    const r2 = test[`r2_${name}`] as number | null;
    console.log(
      `  ${name.padEnd(10)}             ${r2 === null ? '   n/a' : r2.toFixed(3).padStart(6)}   ${(test[`coverage68_${name}`] as number).toFixed(2).padStart(6)}     ${(test[`coverage95_${name}`] as number).toFixed(2).padStart(6)}`,
    );
  }
  const goal = ['omegaM', 'log10Tvir', 'zeta'].every((n) => (test[`r2_${n}`] as number) > 0);
  console.log(`Positive R² for Ω_m, T_vir and ζ: ${goal ? 'yes' : 'no'}`);
  if (!args.includes('--keep')) rmSync(runsDir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'quickstart_regression',
      backend: device.backend,
      cores,
      workers: device.workers ?? null,
      one_worker: {
        wall_s: single.totalSeconds,
        train_eval_s: single.trainingSeconds,
        train_eval_cpu_s: single.trainingCpu,
        val_nll_best: singleBest.nll,
        val_nll_best_step: singleBest.step,
      },
      wall_s: totalSeconds,
      data_s: dataSeconds,
      data_from_cache: fromCache,
      train_eval_s: trainingSeconds,
      data_cpu_s: dataCpu,
      train_eval_cpu_s: trainingCpu,
      val_nll_best: bestVal.nll,
      val_nll_best_step: bestVal.step,
      test_nll: test.nll,
      prior_uniform_nll: 0,
      prior_gaussian_val_nll: priorVal,
      prior_gaussian_test_nll: priorTest,
      r2: Object.fromEntries(parameterNames.map((n) => [n, test[`r2_${n}`]])),
      coverage68: Object.fromEntries(parameterNames.map((n) => [n, test[`coverage68_${n}`]])),
      coverage95: Object.fromEntries(parameterNames.map((n) => [n, test[`coverage95_${n}`]])),
      goal_positive_r2_omegaM_Tvir_zeta: goal,
    }),
  );
}

/** One training run of the quickstart on `workers` data-parallel workers: its folder, device and times. */
async function trainWith(workers: number, runsDir: string) {
  // Wall and CPU time (process.cpuUsage counts every thread of the process, the simulation workers
  // included) up to the "Data: …" log line (simulation or cache read, tokenisation) and after it
  // (model, training, validation, test evaluation). On a machine shared with other jobs the wall time
  // grows while the CPU time does not; both are printed.
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let dataReady: { wall: number; cpu: NodeJS.CpuUsage } | null = null;
  let fromCache = false;
  process.env.L3M_THREADS = String(workers);
  const { runDir } = await prepareRun(configPath, runsDir);
  const outcome = await runTraining({
    runDir,
    signal: new AbortController().signal,
    events: {
      progress: () => undefined,
      metrics: () => undefined,
      log: (level, message) => {
        if (message.startsWith('Using the cached dataset')) fromCache = true;
        if (message.startsWith('Data:') && dataReady === null)
          dataReady = { wall: performance.now(), cpu: process.cpuUsage(cpuStart) };
        console.log(`  [${workers} workers] [${level}] ${message}`);
      },
    },
  });
  const totalSeconds = (performance.now() - start) / 1000;
  const cpuTotal = process.cpuUsage(cpuStart);
  const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
  const ready = dataReady as { wall: number; cpu: NodeJS.CpuUsage } | null;
  const dataSeconds = ready === null ? 0 : (ready.wall - start) / 1000;
  const trainingSeconds = totalSeconds - dataSeconds;
  const dataCpu = ready === null ? 0 : cpuSeconds(ready.cpu);
  const trainingCpu = cpuSeconds(cpuTotal) - dataCpu;
  if (outcome !== 'completed') throw new Error(`run ended ${outcome}`);
  const parsedRecord = parseRunRecord(readFileSync(join(runDir, 'run.json'), 'utf8'));
  if ('error' in parsedRecord) throw new Error(`${join(runDir, 'run.json')}: ${parsedRecord.error}`);
  const { record } = parsedRecord;
  const device = record.device ?? { backend: 'unknown', device: 'unknown' };

  return {
    runDir,
    device,
    totalSeconds,
    dataSeconds,
    trainingSeconds,
    dataCpu,
    trainingCpu,
    cpuTotalSeconds: cpuSeconds(cpuTotal),
    fromCache,
  };
}

/** The validation record with the lowest NLL. */
function bestValidation(runDir: string): MetricRecord {
  const { records } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  return records
    .filter((r) => r.split === 'val')
    .reduce((best, r) => ((r.nll as number) < (best.nll as number) ? r : best));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
