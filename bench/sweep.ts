// The cost of running runs as a sweep. On the tiny regression workspace of the tests (40 steps of a
// one-block model on synthetic lightcones), as real processes of the built sidecar (dist/sidecar.js):
//   - a plain `l3m train` of the config, twice: the wall time of one run;
//   - `l3m sweep run` of 4 repeats of it at K = 1: the overhead of the sweep machinery per run (planning,
//     the sweep and run folders, one `train-run` process per run, the runner's polling) is its wall time
//     over 4 less a plain run's;
//   - the same at K = 2: the speed-up of running 2 at once on this machine's cores.
//   - through Slurm (bench/_sweep_slurm.ts, on a single-node cluster of its own): submit-to-start latency,
//     and the overhead per run against the local K = 1 sweep; skipped with the reason without Slurm.
// Each is timed in wall and in CPU seconds of the whole process tree; the overhead is taken from the
// CPU time, which other work on a shared machine disturbs far less. It is a constant per run, not a
// share of it, so it is set against the tiny run (a pessimistic bound) and against a quickstart run of
// 120 s (its goal on two cores; goal: under 5 %).
//   npm run bench -- sweep [--steps N] [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyWorkspace } from '../test/integration/train_fixture';

const args = process.argv.slice(2);
const steps = args.includes('--steps') ? Number(args[args.indexOf('--steps') + 1]) : 40;
const keep = args.includes('--keep');
const root = resolve(__dirname, '..');
const bundle = join(root, 'dist', 'sidecar.js');
const quickstartSeconds = 120;

/**
 * CPU seconds of the waited-for children of this process, all descendants included (/proc/self/stat
 * cutime and cstime, in clock ticks of 1/100 s): the CPU a command cost, which other work on a shared
 * machine disturbs far less than its wall time.
 */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of the file, counted from field 3 after the program name.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Timing {
  wall: number;
  cpu: number;
}

/** Runs `l3m <args>` to its end; returns its wall and CPU seconds, failing on a non-zero exit. */
function timed(label: string, l3mArgs: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Timing {
  const cpuBefore = childrenCpuSeconds();
  const start = performance.now();
  const result = spawnSync(process.execPath, [bundle, ...l3mArgs], {
    cwd,
    env: { ...process.env, L3M_RUNS_DIR: '', ...env },
    encoding: 'utf8',
  });
  const wall = (performance.now() - start) / 1000;
  const cpu = childrenCpuSeconds() - cpuBefore;
  if (result.status !== 0)
    throw new Error(`${label} exited with ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  console.log(`  ${label.padEnd(28)} ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU`);
  return { wall, cpu };
}

function writeSweep(workspace: string, name: string, parallel: number): string {
  const path = join(workspace, `${name}.l3m-sweep.json`);
  writeFileSync(
    path,
    JSON.stringify({ name, base: 'tiny.l3m.json', repeats: 4, seed: 1, local: { parallel } }, null, 2),
  );
  return path;
}

function main(): void {
  if (!existsSync(bundle)) {
    const build = spawnSync(process.execPath, ['esbuild.mjs', '--no-typecheck'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0)
      throw new Error('The build (node esbuild.mjs) failed; the benchmark runs the built sidecar.');
  }
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-bench-sweep-'));
  writeTinyWorkspace(workspace, { training: { steps } });
  const cores = availableParallelism();
  console.log(`Sweep overhead and parallel runs: tiny regression config, ${steps} steps, ${cores} cores`);
  console.log(`Load average before: ${loadavg()[0].toFixed(2)} (other work on the machine makes the figures noisy)`);

  console.log('\nPlain runs (l3m train):');
  const plainRuns = [1, 2].map((i) =>
    timed(`l3m train #${i}`, ['train', 'tiny.l3m.json', '--runs-dir', 'plain'], workspace),
  );
  const plain: Timing = {
    wall: Math.min(...plainRuns.map((t) => t.wall)),
    cpu: Math.min(...plainRuns.map((t) => t.cpu)),
  };

  console.log('\nSweeps of 4 runs (l3m sweep run):');
  const k1 = timed('K = 1 (4 runs one by one)', ['sweep', 'run', writeSweep(workspace, 'k1', 1)], workspace);
  const k2 = timed('K = 2 (2 runs at once)', ['sweep', 'run', writeSweep(workspace, 'k2', 2)], workspace);

  const overheadCpu = k1.cpu / 4 - plain.cpu;
  const overheadWall = k1.wall / 4 - plain.wall;
  const speedup = k1.wall / k2.wall;
  const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
  console.log('');
  console.log(`A plain run: ${plain.wall.toFixed(2)} s wall, ${plain.cpu.toFixed(2)} s CPU (the lesser of two)`);
  console.log(
    `Sweep machinery per run: ${overheadCpu.toFixed(2)} s CPU = ${percent(overheadCpu, plain.cpu)} of this tiny run's CPU, ` +
      `${percent(overheadCpu, quickstartSeconds)} of a ${quickstartSeconds} s quickstart run (goal < 5 %); ` +
      `in wall time ${overheadWall.toFixed(2)} s (noisier)`,
  );
  console.log(
    `4 runs: ${k1.wall.toFixed(1)} s at K = 1, ${k2.wall.toFixed(1)} s at K = 2: speed-up ${speedup.toFixed(2)}× on ${cores} cores`,
  );

  // The Slurm rows: submit-to-start latency and the overhead per run through Slurm against local, on a
  // test cluster of their own (bench/_sweep_slurm.ts); skipped with the reason where Slurm is missing.
  const slurmResult = join(workspace, 'slurm.json');
  const slurmRows = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench', '_sweep_slurm.ts'), workspace, String(k1.wall), slurmResult],
    { stdio: 'inherit' },
  );
  if (slurmRows.status !== 0) throw new Error('The Slurm rows (bench/_sweep_slurm.ts) failed; see above.');
  const slurm: unknown = JSON.parse(readFileSync(slurmResult, 'utf8'));

  console.log(
    JSON.stringify({
      bench: 'sweep',
      cores,
      steps,
      loadAverage: loadavg()[0],
      plain,
      sweepK1: k1,
      sweepK2: k2,
      overheadPerRunCpuSeconds: overheadCpu,
      overheadPerRunWallSeconds: overheadWall,
      overheadPercentOfTinyRun: (100 * overheadCpu) / plain.cpu,
      overheadPercentOfQuickstart: (100 * overheadCpu) / quickstartSeconds,
      speedupK2: speedup,
      slurm,
    }),
  );
  if (keep) console.log(`Kept ${workspace}`);
  else rmSync(workspace, { recursive: true, force: true });
}

main();
