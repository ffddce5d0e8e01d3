// The Slurm rows of bench/sweep, run as their own process (bench/sweep.ts is synchronous; this needs a
// cluster): on a real single-node cluster that it starts (test/slurm_cluster.ts), in the workspace
// bench/sweep wrote,
//   - Slurm's submit-to-start latency: sbatch of an empty job until it runs, and `l3m sweep run
//     --executor slurm` of one run until the run's process has taken it up (run.json startedAt);
//   - the overhead per run through Slurm against local: the same 4 repeats as bench/sweep's K = 1 sweep,
//     one job at a time (each job asks for every core, as a local run at K = 1 gets them). The time from
//     one run's end to the next one's start (run.json endedAt and startedAt) is all overhead: Slurm's
//     (the job ends, the next is scheduled, slurmstepd and Node start) against the local runner's (the
//     process ends, the next is spawned). Unlike the totals, it holds none of the runs' own training
//     time, which other work on the machine stretches.
// Without Slurm it prints why and writes { skipped } instead.
//   node --import tsx bench/_sweep_slurm.ts <workspace> <local K=1 seconds for 4 runs> <result.json>
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { readRun } from '../sidecar/runs/run_store';
import { listSweeps, runsDirOfSweep } from '../sidecar/protocol/sweep_folder';
import type { RunRecord } from '../sidecar/protocol/run_folder';
import { slurmCommand, slurmUnavailableReason, startSlurmCluster, type SlurmCluster } from '../test/slurm_cluster';

const [workspace, localK1Arg, resultPath] = process.argv.slice(2);
const bundle = join(resolve(__dirname, '..'), 'dist', 'sidecar.js');
const repeats = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function poll<T>(check: () => Promise<T | null>, seconds = 600): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`Timed out after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** sbatch of a job that writes the time it starts; seconds from submission to that time. */
async function sbatchLatency(cluster: SlurmCluster): Promise<number> {
  const stamp = join(cluster.root, `start-${Date.now()}`);
  const submitted = Date.now();
  const job = await slurmCommand(cluster.env.SLURM_CONF, 'sbatch', [
    '--parsable',
    '-o',
    '/dev/null',
    '-D',
    cluster.root,
    '--wrap',
    `date +%s%3N > ${stamp}`,
  ]);
  if (job.code !== 0) throw new Error(`sbatch failed: ${job.stderr}`);
  const started = await poll(() => {
    const text = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
    return Promise.resolve(text === '' ? null : Number(text));
  });
  return (started - submitted) / 1000;
}

/** `l3m sweep run --executor slurm`; returns the submission time and the run folders. */
function submitSweep(cluster: SlurmCluster, name: string, sweep: object): { submitted: number; runDirs: string[] } {
  const path = join(workspace, `${name}.l3m-sweep.json`);
  writeFileSync(path, JSON.stringify({ name, base: 'tiny.l3m.json', seed: 1, executor: 'slurm', ...sweep }, null, 2));
  const submitted = Date.now();
  const out = execFileSync(
    process.execPath,
    [bundle, 'sweep', 'run', path, '--runs-dir', join(workspace, 'slurm-runs')],
    {
      cwd: workspace,
      env: { ...process.env, ...cluster.env, L3M_RUNS_DIR: '' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const sweepDir = /Follow the sweep with: l3m sweep status (.+)$/m.exec(out)?.[1];
  if (!sweepDir) throw new Error(`l3m sweep run printed no sweep folder:\n${out}`);
  const runDirs = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { runs: { runDir: string }[] };
  return { submitted, runDirs: runDirs.runs.map((r) => join(runsDirOfSweep(sweepDir), r.runDir)) };
}

/** Mean time from one run's end to the next run's start, runs taken in the order they started. */
function meanGap(records: RunRecord[]): number | null {
  if (records.length < 2) return null;
  const spans = records
    .map((r) => ({ start: Date.parse(r.startedAt ?? ''), end: Date.parse(r.endedAt ?? '') }))
    .sort((a, b) => a.start - b.start);
  const gaps = spans.slice(1).map((span, i) => (span.start - spans[i].end) / 1000);
  return gaps.reduce((a, b) => a + b, 0) / gaps.length;
}

/** The runs of bench/sweep's local K = 1 sweep (named "k1"), from its sweep folder in the workspace. */
async function localK1Runs(): Promise<RunRecord[]> {
  const runsDir = join(workspace, 'runs');
  const listing = (await listSweeps(runsDir)).find((l) => l.kind === 'sweep' && l.sweep.name === 'k1');
  if (!listing || listing.kind !== 'sweep') return [];
  return Promise.all(listing.sweep.runs.map((run) => readRun(join(runsDir, run.runDir))));
}

async function main(): Promise<void> {
  const reason = slurmUnavailableReason();
  if (reason !== null) {
    console.log(`\nSlurm: skipped: ${reason}`);
    writeFileSync(resultPath, JSON.stringify({ skipped: reason }));
    return;
  }
  const started = await startSlurmCluster();
  if (!started.cluster) throw new Error(`No Slurm cluster: ${started.skip}`);
  const cluster = started.cluster;
  try {
    const cores = availableParallelism();
    console.log(`\nSlurm (a single-node test cluster, up in ${cluster.startSeconds.toFixed(1)} s):`);
    const sbatch: number[] = [];
    for (let i = 0; i < repeats; i++) sbatch.push(await sbatchLatency(cluster));
    console.log(`  sbatch to job start          ${median(sbatch).toFixed(2)} s (median of ${repeats})`);

    const toRun: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const { submitted, runDirs } = submitSweep(cluster, `latency${i}`, { repeats: 1 });
      const record = await poll(async () => {
        const r = await readRun(runDirs[0]);
        return r.status === 'completed' || r.status === 'failed' ? r : null;
      });
      if (record.status !== 'completed') throw new Error(`${runDirs[0]} failed: ${record.error?.message}`);
      toRun.push((Date.parse(record.startedAt ?? '') - submitted) / 1000);
    }
    console.log(
      `  sweep run to run started     ${median(toRun).toFixed(2)} s (median of ${repeats}; planning, sbatch, Node start-up)`,
    );

    const { submitted, runDirs } = submitSweep(cluster, 'slurm4', { repeats: 4, slurm: { cpus_per_task: cores } });
    const slurmRuns = await Promise.all(
      runDirs.map((runDir) =>
        poll(async () => {
          const r = await readRun(runDir);
          if (r.status === 'failed') throw new Error(`${runDir} failed: ${r.error?.message}`);
          return r.status === 'completed' ? r : null;
        }),
      ),
    );
    const wall = (Math.max(...slurmRuns.map((r) => Date.parse(r.endedAt ?? ''))) - submitted) / 1000;
    const localK1 = Number(localK1Arg);
    const slurmGap = meanGap(slurmRuns) ?? 0;
    const localGap = meanGap(await localK1Runs());
    console.log(`  4 runs one job at a time     ${wall.toFixed(1)} s (local K = 1: ${localK1.toFixed(1)} s)`);
    console.log(
      `  end of a run to the next's start: ${slurmGap.toFixed(2)} s through Slurm, ` +
        (localGap === null ? 'local not found' : `${localGap.toFixed(2)} s local`),
    );
    const perRun = localGap === null ? null : slurmGap - localGap;
    console.log(
      `Through Slurm, per run: ${perRun === null ? '?' : perRun.toFixed(2)} s more than local between runs; ` +
        `${((wall - localK1) / 4).toFixed(2)} s from the totals (noisier: it holds the runs' own times)`,
    );
    writeFileSync(
      resultPath,
      JSON.stringify({
        clusterStartSeconds: cluster.startSeconds,
        sbatchToStartSeconds: median(sbatch),
        sweepRunToRunStartedSeconds: median(toRun),
        slurm4RunsSeconds: wall,
        betweenRunsSlurmSeconds: slurmGap,
        betweenRunsLocalSeconds: localGap,
        overheadPerRunSeconds: perRun,
        overheadPerRunFromTotalsSeconds: (wall - localK1) / 4,
      }),
    );
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
