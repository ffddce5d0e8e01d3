// The process that runs a run, and whether it may be signalled. run.json names its process by pid,
// but pids are reused, and run.json can come from anyone (a copied run folder, a file written by
// hand): signalling whatever pid it names could interrupt any process of the user. So when a run
// starts, the run store records the process's identity as Linux's /proc shows it (start time after
// boot, command line, boot id), and Cancel sends a signal only when /proc still shows that same
// process. Where there is no /proc (macOS, Windows) the identity cannot be checked, and nothing is
// signalled: such a run is stopped where it was started (Ctrl-C in its terminal), or by the window
// whose sidecar runs it, which cancels over its protocol and signals nothing.
//
// Part of the protocol (the run store writes the identity, the extension checks it), but it reads the
// file system, so webviews must not import it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ProcessIdentity, RunRecord } from './run_folder';
import { errorCode, errorReason } from './error_message';

/** The identity of a live process, or null when /proc does not show it (gone, or no /proc here). */
export function readProcessIdentity(pid: number, procRoot = '/proc'): ProcessIdentity | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
    cmdline = readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8');
  } catch {
    return null;
  }
  // Field 2 is the program name in parentheses and may itself hold spaces and parentheses, so the
  // fields are counted from the last ')': field 3 follows it, field 22 (starttime) is 19 further.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]);
  if (!Number.isSafeInteger(startTime)) return null;
  const commandLine = cmdline.endsWith('\0') ? cmdline.slice(0, -1).split('\0') : cmdline.split('\0');
  const bootId = readBootId(procRoot);
  return { pid, startTime, commandLine, ...(bootId !== undefined ? { bootId } : {}) };
}

function readBootId(procRoot: string): string | undefined {
  try {
    return readFileSync(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether two identities are the same process: same pid, start time, command line and boot. */
export function sameProcess(recorded: ProcessIdentity, current: ProcessIdentity): boolean {
  return (
    recorded.pid === current.pid &&
    recorded.startTime === current.startTime &&
    (recorded.bootId === undefined || current.bootId === undefined || recorded.bootId === current.bootId) &&
    Array.isArray(recorded.commandLine) &&
    recorded.commandLine.length === current.commandLine.length &&
    recorded.commandLine.every((arg, i) => arg === current.commandLine[i])
  );
}

export type SignalCheck = { allowed: true; pid: number } | { allowed: false; reason: string };

/**
 * Whether the process that run.json names may be signalled from here: it runs on this host, run.json
 * recorded its identity, and /proc shows the same process now. Otherwise the reason, as a sentence.
 */
export function checkRunProcess(record: RunRecord, procRoot = '/proc', thisHost: string = hostname()): SignalCheck {
  const pid = record.pid;
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0)
    return { allowed: false, reason: 'run.json names no process' };
  if (record.host !== undefined && record.host !== thisHost) {
    return { allowed: false, reason: `it runs on ${record.host}, not on this machine (${thisHost}); cancel it there` };
  }
  const recorded = record.processIdentity;
  if (!recorded || typeof recorded !== 'object') {
    return {
      allowed: false,
      reason:
        `run.json records process ${pid} without its identity (start time and command line), so it cannot be told apart ` +
        'from another process that now has that number; stop the run where it was started (Ctrl-C in its terminal)',
    };
  }
  if (readProcessIdentity(process.pid, procRoot) === null) {
    return {
      allowed: false,
      reason:
        `this system has no ${procRoot} to read process identities from, so L3M Studio cannot check which process has pid ${pid}, ` +
        'and signals only processes it can identify; stop the run where it was started (Ctrl-C in its terminal)',
    };
  }
  const current = readProcessIdentity(pid, procRoot);
  if (current === null)
    return { allowed: false, reason: `its process ${pid} is gone (the run is stale; resume it to continue)` };
  if (!sameProcess({ ...recorded, pid }, current)) {
    return {
      allowed: false,
      reason:
        `process ${pid} is not the process that started the run (its start time or command line differ: the number was reused); ` +
        "the run's own process is gone",
    };
  }
  // An editor window's sidecar (`l3m serve`) runs that window's whole queue: a SIGINT would stop it and
  // every run it holds, so its runs are cancelled over its protocol, from that window.
  if (current.commandLine.slice(1).includes('serve')) {
    return {
      allowed: false,
      reason: `process ${pid} is another editor window's sidecar (l3m serve), which runs that window's queue; cancel the run from that window`,
    };
  }
  return { allowed: true, pid };
}

export type SignalOutcome = { signalled: true; pid: number } | { signalled: false; reason: string };

/**
 * Sends `signal` (SIGINT: the run's Ctrl-C, which stops it after the current step and leaves it
 * resumable) to the run's process, only when checkRunProcess allows it.
 */
export function signalRunProcess(
  record: RunRecord,
  signal: NodeJS.Signals = 'SIGINT',
  procRoot = '/proc',
): SignalOutcome {
  const check = checkRunProcess(record, procRoot);
  if (!check.allowed) return { signalled: false, reason: check.reason };
  try {
    process.kill(check.pid, signal);
    return { signalled: true, pid: check.pid };
  } catch (error) {
    return { signalled: false, reason: `process ${check.pid} could not be signalled (${errorReason(error)})` };
  }
}

/**
 * Whether the process that runs a run is still alive. With a recorded identity and /proc, a pid now
 * used by another process does not count (a crashed run would otherwise look live for as long as its
 * number is reused); without either, whether any process has that pid.
 */
export function isRunProcessAlive(record: RunRecord, procRoot = '/proc'): boolean {
  const pid = record.pid;
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  const recorded = record.processIdentity;
  if (recorded && typeof recorded === 'object' && readProcessIdentity(process.pid, procRoot) !== null) {
    const current = readProcessIdentity(pid, procRoot);
    return current !== null && sameProcess({ ...recorded, pid }, current);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(error) === 'EPERM';
  }
}
