// parseMetricsJsonl on bad input: its work grows linearly with the number of lines however many of
// them are garbage (counted, not timed), it keeps the line numbers and the truncated-last-line
// verdict, and its problem list stays short when a file is mostly garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetricsJsonl } from '../../sidecar/protocol/run_folder';

const record = '{"step":1,"epoch":0,"wall_time":0.5,"split":"train","loss":2.5}';

/**
 * Runs `parse` while counting the line-level work it asks of the built-ins a line parser uses:
 * array elements copied by slice, strings trimmed, JSON.parse calls. A parser that looks at each
 * line a bounded number of times does O(lines) of this work.
 */
function countWork<T>(parse: () => T): { result: T; work: number } {
  const { slice } = Array.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the originals are kept to be restored, and each is called with an explicit this (trim.call(this)).
  const { trim, trimEnd, trimStart } = String.prototype;
  const jsonParse = JSON.parse;
  let work = 0;
  Array.prototype.slice = function (this: unknown[], ...args: Parameters<typeof slice>) {
    const copy: unknown[] = slice.apply(this, args);
    work += copy.length;
    return copy;
  };
  String.prototype.trim = function (this: string) {
    work++;
    return trim.call(this);
  };
  String.prototype.trimEnd = function (this: string) {
    work++;
    return trimEnd.call(this);
  };
  String.prototype.trimStart = function (this: string) {
    work++;
    return trimStart.call(this);
  };
  JSON.parse = function (...args: Parameters<typeof jsonParse>) {
    work++;
    return jsonParse.apply(JSON, args) as unknown;
  } as typeof JSON.parse;
  try {
    return { result: parse(), work };
  } finally {
    Array.prototype.slice = slice;
    Object.assign(String.prototype, { trim, trimEnd, trimStart });
    JSON.parse = jsonParse;
  }
}

function garbage(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `garbage ${i}`).join('\n') + `\n${record}\n`;
}

test('garbage lines cost linear work: twice the lines, at most about twice the work', () => {
  const small = countWork(() => parseMetricsJsonl(garbage(4000)));
  const large = countWork(() => parseMetricsJsonl(garbage(8000)));
  assert.equal(large.result.records.length, 1);
  assert.ok(
    large.work <= 4 * 8001,
    `8000 garbage lines and a record cost ${large.work} units of line work; expected at most 4 per line (32004)`,
  );
  assert.ok(
    large.work <= 2.2 * small.work,
    `work grew from ${small.work} (4000 lines) to ${large.work} (8000 lines): faster than linear`,
  );
});

test('100 000 garbage lines: every record kept, a short problem list that counts the rest', () => {
  const { result, work } = countWork(() => parseMetricsJsonl(`${record}\n${garbage(100_000)}`));
  assert.equal(result.records.length, 2);
  assert.ok(work <= 4 * 100_002, `work ${work} for 100 002 lines`);
  assert.ok(result.problems.length <= 21, `${result.problems.length} problems`);
  assert.equal(result.problems[0], 'metrics.jsonl line 2: not valid JSON');
  assert.match(
    result.problems.at(-1)!,
    /^metrics\.jsonl: 99,980 more lines that are not metric records \(lines 22 to 100001\) were skipped$/,
  );
});

test('line numbers, non-records, and a torn last line told from a corrupt one by its line break', () => {
  const text = [record, '', '{"step": 2}', record, '[1, 2]', 'nul', '{"step": 3, "ep'].join('\n');
  const { records, problems } = parseMetricsJsonl(text);
  assert.equal(records.length, 2);
  assert.deepEqual(problems, [
    'metrics.jsonl line 3: not a metric record (needs step, epoch, wall_time, split)',
    'metrics.jsonl line 5: not a metric record (needs step, epoch, wall_time, split)',
    'metrics.jsonl line 6: not valid JSON',
    'metrics.jsonl line 7: truncated last line (the run may still be writing it)',
  ]);
  // A line break after the bad line means the writer finished it: corrupt, not torn.
  assert.deepEqual(parseMetricsJsonl(`${record}\n{"step": 3, "ep\n  \n`).problems, [
    'metrics.jsonl line 2: not valid JSON',
  ]);
  assert.deepEqual(parseMetricsJsonl('{"st\n' + record, 41).problems, ['metrics.jsonl line 41: not valid JSON']);
  assert.deepEqual(parseMetricsJsonl(''), { records: [], problems: [], system: [], systemSkipped: 0 });
});
