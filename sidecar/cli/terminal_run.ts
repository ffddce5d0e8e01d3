// Runs training in a terminal for `l3m train` and `l3m resume`: a progress bar rewritten in place on a
// TTY (epoch, step, loss, learning rate, steps/s, ETA), plain lines otherwise (logs, CI, batch jobs);
// Ctrl-C (SIGINT, and SIGTERM from a scheduler) cancels cleanly after the current step, leaving a
// resumable run; a second Ctrl-C quits at once, marking the run cancelled (it resumes from its last
// checkpoint). Returns the exit code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressParams } from '../protocol/messages';
import { parseRunRecord } from '../protocol/run_folder';
import { writeFileAtomicSync } from '../runs/atomic_write';
import { exitCodes } from '../protocol/exit_codes';
import { runTraining } from '../jobs/train_job';

export interface TerminalOutput {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

/** "1:02:03" or "2:03". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** One progress line; `width` > 0 adds a bar of that many cells. */
export function progressLine(p: Omit<ProgressParams, 'runDir'>, width: number): string {
  if (p.phase !== undefined) return p.phase;
  const fraction = p.totalSteps > 0 ? p.step / p.totalSteps : 0;
  const filled = Math.round(fraction * width);
  const bar = width > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '';
  const loss = p.loss === null ? '-' : p.loss.toPrecision(4);
  return (
    `epoch ${p.epoch.toFixed(2)}  step ${p.step}/${p.totalSteps}${bar}  loss ${loss}  lr ${p.lr.toExponential(2)}  ` +
    `${p.stepsPerSecond.toFixed(2)} steps/s  ETA ${formatDuration(p.etaSeconds)}`
  );
}

export async function trainInTerminal(
  runDir: string,
  output: TerminalOutput = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { out, err } = output;
  const tty = out.isTTY === true;
  const controller = new AbortController();
  let interrupts = 0;
  let lineOpen = false;
  const endLine = () => {
    if (lineOpen) out.write('\n');
    lineOpen = false;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts === 1) {
      endLine();
      err.write(`${signal}: cancelling after the current step (press Ctrl-C again to quit at once)…\n`);
      controller.abort();
      return;
    }
    endLine();
    err.write('Quitting now; the run resumes from its last checkpoint.\n');
    markCancelledSync(runDir);
    process.exit(exitCodes.cancelled);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lastPlain = 0;
  let lastPhase = '';
  try {
    out.write(`Run folder: ${runDir}\n`);
    const outcome = await runTraining({
      runDir,
      signal: controller.signal,
      events: {
        progress: (p) => {
          if (tty) {
            const width = Math.max(0, Math.min(30, (out.columns ?? 100) - 90));
            out.write(`\r\x1b[2K${progressLine(p, width)}`);
            lineOpen = true;
            return;
          }
          // Plain output: a line every 10 s, when the phase changes and at the end, so logs stay short.
          const now = Date.now();
          const phase = p.phase?.replace(/[\d/]+$/, '') ?? 'training';
          if (now - lastPlain > 10_000 || phase !== lastPhase || (p.phase === undefined && p.step === p.totalSteps)) {
            lastPlain = now;
            lastPhase = phase;
            out.write(`${progressLine(p, 0)}\n`);
          }
        },
        metrics: (records) => {
          for (const record of records) {
            if (record.split === 'train') continue;
            endLine();
            const values = Object.entries(record)
              .filter(([k]) => !['step', 'epoch', 'wall_time', 'split'].includes(k))
              .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`);
            out.write(`${record.split} @ step ${record.step}: ${values.join(', ')}\n`);
          }
        },
        log: (level, message) => {
          endLine();
          err.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
        },
      },
    });
    endLine();
    if (outcome === 'cancelled') {
      out.write(`Cancelled. Resume with: l3m resume ${runDir}\n`);
      return exitCodes.cancelled;
    }
    out.write(`Completed. Run folder: ${runDir}\n`);
    return exitCodes.ok;
  } catch {
    endLine();
    // runTraining has logged the reason and marked run.json failed.
    err.write(`Run failed; see ${join(runDir, 'run.json')}.\n`);
    return exitCodes.runFailed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Marks the run cancelled synchronously (the process is about to exit); a failure to write is ignored. */
function markCancelledSync(runDir: string): void {
  try {
    const path = join(runDir, 'run.json');
    const parsed = parseRunRecord(readFileSync(path, 'utf8'));
    if ('error' in parsed || parsed.record.status !== 'running') return;
    const record = {
      ...parsed.record,
      status: 'cancelled' as const,
      endedAt: new Date().toISOString(),
      error: { message: 'Interrupted (second Ctrl-C); resume to continue from the last checkpoint.' },
    };
    writeFileAtomicSync(path, JSON.stringify(record, null, 2) + '\n');
  } catch {
    // Nothing more can be done while exiting; `l3m runs` reports the run as stale (dead pid).
  }
}
