// metrics.jsonl parsed a bounded window of bytes at a time, for the extension host: a run folder
// may hold a file of millions of lines (or of garbage), and parsing it in one synchronous call
// would freeze every view and command of the window while it lasts. The initial read and the
// follower both go through MetricsLineReader; between windows they yield to the event loop.
import { parseMetricsJsonl, type MetricRecord, type SystemRecord } from '../../sidecar/protocol/run_folder';

/**
 * The most bytes parsed in one go. A metric record is a few hundred bytes, so a window holds
 * thousands of them and is parsed in milliseconds; a longer line is not a metric record.
 */
export const metricsWindowBytes = 1 << 20;

export interface MetricsWindow {
  /** Bytes of the window that were used up; the next window starts there. */
  consumed: number;
  records: MetricRecord[];
  problems: string[];
  /** System lines (run_folder.ts SystemRecord) and how many malformed ones were skipped. */
  system?: SystemRecord[];
  systemSkipped?: number;
}

const newline = 0x0a;

/**
 * Turns consecutive windows of metrics.jsonl into records. Each window starts at the first byte
 * the previous one did not consume; a line that is not complete yet is left unconsumed, to be read
 * again with its end. A line longer than a window is skipped as it streams past (reported once),
 * so a garbage line costs work in proportion to its length only. Line numbers run on across windows.
 */
export class MetricsLineReader {
  private nextLine: number;
  private skipping = false;

  constructor(
    firstLine = 1,
    private readonly windowBytes = metricsWindowBytes,
  ) {
    this.nextLine = firstLine;
  }

  take(window: Buffer): MetricsWindow {
    let start = 0;
    if (this.skipping) {
      const lineEnd = window.indexOf(newline);
      if (lineEnd < 0) return { consumed: window.length, records: [], problems: [] };
      start = lineEnd + 1;
      this.skipping = false;
      this.nextLine++;
    }
    const end = window.lastIndexOf(newline) + 1;
    if (end > start) {
      const parsed = parseMetricsJsonl(window.toString('utf8', start, end), this.nextLine);
      this.nextLine += countNewlines(window, start, end);
      return { consumed: end, ...parsed };
    }
    if (start === 0 && window.length >= this.windowBytes) {
      this.skipping = true;
      const limit = this.windowBytes >= 1 << 20 ? `${this.windowBytes / (1 << 20)} MiB` : `${this.windowBytes} bytes`;
      return {
        consumed: window.length,
        records: [],
        problems: [
          `metrics.jsonl line ${this.nextLine}: longer than ${limit} without a line break, skipped (a metric record is one line of a few hundred bytes; is this file a metrics log?)`,
        ],
      };
    }
    return { consumed: start, records: [], problems: [] };
  }
}

function countNewlines(buffer: Buffer, start: number, end: number): number {
  let count = 0;
  for (let at = buffer.indexOf(newline, start); at >= 0 && at < end; at = buffer.indexOf(newline, at + 1)) count++;
  return count;
}

/** Lets the extension host serve other events before the next window is parsed. */
export function yieldToHost(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The complete lines of a metrics.jsonl buffer, window by window, yielding between windows.
 * `end` is the byte length consumed: the start of a last line that has no line break yet.
 */
export async function parseMetricsWindows(buffer: Buffer): Promise<{
  records: MetricRecord[];
  problems: string[];
  system: SystemRecord[];
  systemSkipped: number;
  end: number;
}> {
  const reader = new MetricsLineReader();
  const records: MetricRecord[] = [];
  const problems: string[] = [];
  const system: SystemRecord[] = [];
  let systemSkipped = 0;
  let end = 0;
  while (end < buffer.length) {
    const taken = reader.take(buffer.subarray(end, end + metricsWindowBytes));
    if (taken.consumed === 0) break;
    end += taken.consumed;
    // Concatenated in a loop: spreading a window's worth of records into push() could exceed the
    // engine's argument limit.
    for (const record of taken.records) records.push(record);
    problems.push(...taken.problems);
    for (const record of taken.system ?? []) system.push(record);
    systemSkipped += taken.systemSkipped ?? 0;
    if (end < buffer.length) await yieldToHost();
  }
  return { records, problems, system, systemSkipped, end };
}
