// Run ids that sort by creation time as plain strings: `YYYYMMDD-HHMMSS-xxxx`, UTC, with four random
// hex digits so that two runs started in the same second (a queue, a job array on a cluster) differ.
// UTC rather than local time keeps the order right across machines in different time zones, which
// matters because runs from a cluster and from a laptop end up in the same runs folder.
import { randomBytes } from 'node:crypto';

const runIdPattern = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([0-9a-f]{4})$/;

/** A new run id for the given time (now by default). */
export function newRunId(time: Date = new Date(), suffix: string = randomBytes(2).toString('hex')): string {
  if (!/^[0-9a-f]{4}$/.test(suffix)) {
    throw new Error(`Run id suffix must be 4 lowercase hex digits, got "${suffix}".`);
  }
  if (Number.isNaN(time.getTime()))
    throw new Error('Run id time is an invalid Date; pass a valid Date or none for now.');
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${time.getUTCFullYear()}${two(time.getUTCMonth() + 1)}${two(time.getUTCDate())}`;
  const clock = `${two(time.getUTCHours())}${two(time.getUTCMinutes())}${two(time.getUTCSeconds())}`;
  return `${date}-${clock}-${suffix}`;
}

/** Whether a folder name is a run id. */
export function isRunId(name: string): boolean {
  return parseRunIdTime(name) !== null;
}

/** The creation time encoded in a run id (to the second), or null when `id` is not a valid run id. */
export function parseRunIdTime(id: string): Date | null {
  const m = runIdPattern.exec(id);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Reject impossible dates such as 20260231, which Date.UTC would silently roll over.
  if (time.getUTCMonth() !== month - 1 || time.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59)
    return null;
  return time;
}
