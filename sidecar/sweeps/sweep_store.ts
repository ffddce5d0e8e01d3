// The writer of sweep folders (the format is sidecar/protocol/sweep_folder.ts): a planned sweep becomes
// `<runs>/.sweeps/<sweep-id>/` and one queued run folder per planned run, all before any run starts, so
// that every executor, the editor and `l3m sweep status` see the whole sweep from the first moment, and a
// sweep is resumed from its folder alone. The sweep folder is filled under a hidden name and renamed once
// sweep.json is in it: it appears whole or not at all, and a failure half way removes the run folders it
// had created.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { SweepPlan } from '../../schemas/sweep_plan';
import {
  isSweepId,
  readSweepFolder,
  readSweepRuns,
  runsDirOfSweep,
  readSweepState,
  sweepsDir,
  type SweepFile,
  type SweepRunEntry,
  type SweepState,
} from '../protocol/sweep_folder';
import { readProcessIdentity } from '../protocol/run_process';
import { packageVersion, newRunId, writeFileAtomic } from '../runs/run_store';
import { syncDirectory, tempFilePrefix } from '../runs/atomic_write';
import { prepareConfiguredRun } from '../jobs/train_job';

export interface CreateSweepOptions {
  runsDir: string;
  /** The executor chosen for this sweep (the sweep file's, or the override). */
  executor: 'local' | 'slurm';
  /** Only for tests: the creation time. */
  now?: Date;
}

export interface CreatedSweep {
  sweepDir: string;
  sweep: SweepFile;
}

/** A sweep id: the sweep's name, then a run id's sortable UTC time and 4 random hex digits. */
export function newSweepId(name: string, now: Date = new Date()): string {
  return `${name}-${newRunId(now)}`;
}

/**
 * Creates the sweep folder and every run folder of `plan` (status queued, config.json the run's
 * resolved config, run.json with the seed and the sweep's labels). Throws ConfigInvalidError (from the
 * run preparation) when a run's config has errors the plan did not catch, having removed what it made.
 */
export async function createSweep(plan: SweepPlan, options: CreateSweepOptions): Promise<CreatedSweep> {
  const runsDir = resolve(options.runsDir);
  const now = options.now ?? new Date();
  const parent = sweepsDir(runsDir);
  await mkdir(parent, { recursive: true });
  let id = newSweepId(plan.name, now);
  while (existsSync(join(parent, id))) id = newSweepId(plan.name, now);
  if (!isSweepId(id))
    throw new Error(`Sweep name "${plan.name}" cannot name a folder; use letters, digits, ".", "_" and "-" only.`);
  const temporary = join(parent, `${tempFilePrefix}${id}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await mkdir(temporary);
  const created: string[] = [];
  try {
    const runs: SweepRunEntry[] = [];
    for (const planned of plan.runs) {
      const run = await prepareConfiguredRun({
        config: planned.config,
        configPath: planned.base,
        runsDir,
        experiment: planned.experiment,
        labels: {
          sweep: { id, index: planned.index, group: planned.group, setup: planned.setup, repeat: planned.repeat },
          ...(options.executor === 'local' ? { executor: { kind: 'local' as const } } : {}),
        },
        ownedByThisProcess: false,
      });
      created.push(run.runDir);
      runs.push({
        index: planned.index,
        runDir: relative(runsDir, run.runDir).split('\\').join('/'),
        group: planned.group,
        setup: planned.setup,
        repeat: planned.repeat,
        seed: planned.seed,
        overrides: planned.overrides,
      });
    }
    const sweep: SweepFile = {
      id,
      name: plan.name,
      sweepPath: plan.sweepPath,
      createdAt: now.toISOString(),
      executor: options.executor,
      groupBy: plan.groupBy,
      repeats: plan.repeats,
      sweepSeed: plan.sweepSeed,
      runs,
      local: { parallel: plan.local.parallel },
      slurm: { ...plan.slurm },
      version: packageVersion,
    };
    await writeFileAtomic(join(temporary, 'sweep.json'), JSON.stringify(sweep, null, 2) + '\n');
    await writeFileAtomic(join(temporary, 'state.json'), '{}\n');
    const sweepDir = join(parent, id);
    await rename(temporary, sweepDir);
    await syncDirectory(parent);
    return { sweepDir, sweep };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    for (const runDir of created) await rm(runDir, { recursive: true, force: true });
    throw error;
  }
}

/** Reads sweep.json, throwing an error that names the folder and the reason when it is not a sweep. */
export async function readSweep(sweepDir: string): Promise<SweepFile> {
  const listing = await readSweepFolder(sweepDir);
  if (listing.kind === 'unreadable')
    throw new Error(
      `${sweepDir} is not a readable sweep folder: ${listing.reason}. Name a folder under <runs>/.sweeps/ made by "l3m sweep run".`,
    );
  return listing.sweep;
}

/**
 * Applies `change` to state.json and writes it atomically. Two processes may change it at once (a
 * runner recording itself while another terminal cancels), so each writer re-reads it right before
 * writing and changes only its own fields.
 */
export async function updateSweepState(
  sweepDir: string,
  change: (state: SweepState) => SweepState,
): Promise<SweepState> {
  const next = change(await readSweepState(sweepDir));
  await writeFileAtomic(join(sweepDir, 'state.json'), JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** This process as state.json's runner. */
export function thisRunner(now: Date = new Date()): NonNullable<SweepState['runner']> {
  const identity = readProcessIdentity(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: now.toISOString(),
    ...(identity ? { processIdentity: identity } : {}),
  };
}

/**
 * The sweep folder a user named: a path to one (absolute, or relative to the working folder), or a
 * sweep id looked up in `<runsDir>/.sweeps/`. Throws with both places tried when neither exists.
 */
export function findSweepDir(nameOrPath: string, runsDir: string): string {
  const asPath = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  if (existsSync(join(asPath, 'sweep.json'))) return asPath;
  const byId = join(sweepsDir(runsDir), nameOrPath);
  if (!nameOrPath.includes('/') && existsSync(join(byId, 'sweep.json'))) return byId;
  throw new Error(
    `No sweep folder "${nameOrPath}": neither ${asPath} nor ${byId} holds a sweep.json. ` +
      'Give the folder that "l3m sweep run" printed, or its id with --runs-dir set to its runs folder.',
  );
}

/**
 * The runs of a sweep that resume takes up: queued, cancelled, failed, and "running" ones whose process
 * is gone (stale). Completed runs stay as they are; unreadable ones cannot be trained.
 */
export async function unfinishedRuns(sweepDir: string, sweep: SweepFile): Promise<number[]> {
  const runs = await readSweepRuns(runsDirOfSweep(sweepDir), sweep);
  return runs
    .filter(({ listing }) => {
      if (listing.kind !== 'run') return false;
      const status = listing.record.status;
      return status === 'queued' || status === 'cancelled' || status === 'failed' || listing.displayStatus === 'stale';
    })
    .map(({ entry }) => entry.index);
}
