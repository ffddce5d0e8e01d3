// `l3m runs`: lists the run folders (runs/<experiment>/<run-id>/) with their status and progress.
// Unreadable folders are listed with the reason; runs whose process died are shown as stale.
// `--mark-failed` is the extension's way to record that its sidecar died during a run: the
// extension must not import the run store (it may only import the protocol), so it asks a fresh
// `l3m` process, which applies the same checked transition and atomic write as the sidecar would.
import { resolve } from 'node:path';
import { failRun, listRuns, type RunListing } from '../runs/run_store';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';
import { describeProgress } from '../protocol/run_stage';

const help = `Usage: l3m runs [--runs-dir DIR] [--json]
       l3m runs --mark-failed RUN_DIR --reason TEXT [--exit-code N]

Lists run folders: experiment, run id, status, progress (step/total; a running run's
stage with its progress and ETA), start time, device.
  --runs-dir DIR   the runs folder (default: $L3M_RUNS_DIR, else ./runs)
  --json           print the listing as JSON
  --mark-failed    record that a run failed (used by the extension when its sidecar died)`;

interface Options {
  runsDir: string;
  json: boolean;
  markFailed?: string;
  reason?: string;
  exitCode?: number;
}

function parseArgs(args: string[]): Options | string {
  const options: Options = { runsDir: process.env.L3M_RUNS_DIR || 'runs', json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`option ${arg} needs a value`);
      return v;
    };
    try {
      if (arg === '--json') options.json = true;
      else if (arg === '--runs-dir') options.runsDir = value();
      else if (arg === '--mark-failed') options.markFailed = value();
      else if (arg === '--reason') options.reason = value();
      else if (arg === '--exit-code') {
        const v = value();
        if (!/^-?\d+$/.test(v)) return `--exit-code needs an integer, got "${v}"`;
        options.exitCode = Number(v);
      } else return `unknown option "${arg}"`;
    } catch (error) {
      return errorMessage(error);
    }
  }
  if (options.markFailed !== undefined && options.reason === undefined) return '--mark-failed needs --reason TEXT';
  return options;
}

function shortTime(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19);
}

function row(l: RunListing): string[] {
  if (l.kind === 'unreadable') return [l.experiment, l.runId, 'unreadable', '-', '-', l.reason];
  const device = l.record.device ? `${l.record.device.backend} (${l.record.device.device})` : '-';
  const status = l.displayStatus === 'stale' ? 'stale (process gone)' : l.displayStatus;
  return [l.experiment, l.runId, status, progressCell(l), shortTime(l.record.startedAt), device];
}

/**
 * The progress column: step/total, and for a running run its stage with the stage's progress and ETA as
 * run.json last recorded them ("simulating lightcones 3/40 · ETA 2 min 5 s"), never the 0/0 of the step
 * counts before training.
 */
function progressCell(l: Extract<RunListing, { kind: 'run' }>): string {
  const p = l.record.progress;
  if (!p) return '-';
  if (l.displayStatus === 'running' && p.stage) {
    const d = describeProgress(p);
    return [d.stage, d.rate, d.eta].filter((part) => part !== undefined).join(' · ');
  }
  return `${p.step}/${p.totalSteps}`;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help);
    return exitCodes.ok;
  }
  const options = parseArgs(args);
  if (typeof options === 'string') {
    console.error(`l3m runs: ${options}.\n\n${help}`);
    return exitCodes.usage;
  }
  if (options.markFailed !== undefined) {
    try {
      const record = await failRun(
        resolve(options.markFailed),
        options.reason ?? '',
        options.exitCode !== undefined ? { exitCode: options.exitCode } : {},
      );
      if (options.json) console.log(JSON.stringify(record));
      return exitCodes.ok;
    } catch (error) {
      console.error(`l3m runs: ${errorMessage(error)}`);
      return exitCodes.invalid;
    }
  }
  const runsDir = resolve(options.runsDir);
  const listing = await listRuns(runsDir);
  if (options.json) {
    console.log(JSON.stringify({ runsDir, runs: listing }, null, 2));
    return exitCodes.ok;
  }
  if (listing.length === 0) {
    console.log(`No runs in ${runsDir}.`);
    return exitCodes.ok;
  }
  const header = ['experiment', 'run', 'status', 'progress', 'started (UTC)', 'device / reason'];
  const rows = listing.map(row);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const unreadable = listing.filter((l) => l.kind === 'unreadable').length;
  console.log(
    `\n${listing.length} run${listing.length === 1 ? '' : 's'} in ${runsDir}${unreadable ? `, ${unreadable} unreadable` : ''}.`,
  );
  return exitCodes.ok;
}
