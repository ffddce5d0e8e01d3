// Child process of bench/dataset's paper-scale section: a few real training steps of a config (the
// quickstart's model on the benchmark's .npz cones), through prepareRun/runTraining as `l3m train`
// runs them, so the step rate is the one the data path must keep up with: model, optimizer, the
// data-parallel workers runtime.threads gives, and the data read from the store with prefetching.
// The rate is taken from metrics.jsonl's wall times from the first step's end to the last's, so the
// first step's warm-up (kernels compiled, buffers allocated) and the end-of-run evaluation are left out.
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareRun, runTraining } from '../../sidecar/jobs/train_job';
import { parseMetricsJsonl } from '../../sidecar/protocol/run_folder';

const [configPath, runsDir] = process.argv.slice(2);

async function main(): Promise<void> {
  const { runDir } = await prepareRun(configPath, runsDir);
  const logs: string[] = [];
  const outcome = await runTraining({
    runDir,
    signal: new AbortController().signal,
    events: { progress: () => {}, metrics: () => {}, log: (level, message) => logs.push(`${level}: ${message}`) },
  });
  const train = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records.filter(
    (r) => r.split === 'train' && typeof r.wall_time === 'number',
  );
  const first = train[0];
  const last = train[train.length - 1];
  const stepsPerSecond =
    first && last && last.step > first.step ? (last.step - first.step) / (last.wall_time - first.wall_time) : null;
  const runtime = logs.find((line) => /backend/i.test(line)) ?? null;
  console.log(JSON.stringify({ outcome, steps: last?.step ?? 0, stepsPerSecond, runtime, logs }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
