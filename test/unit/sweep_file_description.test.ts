// The Experiments view's line on a sweep file (extension/sweep_file_description.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSweepFile } from '../../extension/sweep_file_description';

test('a sweep file is described by its run count, its factors and its executor', () => {
  const cases: [string, string][] = [
    ['{"base": "a.l3m.json"}', '1 run · 1 repeat · local'],
    [
      '{"base": "a.l3m.json", "repeats": 3, "setups": [{}, {}], "grid": {"training.lr": [1, 2]}, "executor": "slurm"}',
      '12 runs · 2 setups × 2 grid points × 3 repeats · slurm',
    ],
    [
      '{"base": ["a.l3m.json", "b.l3m.json"], "grid": {"x": [1, 2, 3], "y": [true, false]}, "repeats": 2}',
      '24 runs · 2 bases × 6 grid points × 2 repeats · local',
    ],
    // Half-typed: a trailing comma and a comment are read; a grid key without values yet gives no runs.
    ['{\n  // the table\n  "base": "a.l3m.json", "grid": {"x": []},\n}', '0 runs · 0 grid points × 1 repeat · local'],
    ['{"repeats": 2}', 'sweep · no base config · local'],
    ['[1, 2]', 'sweep · not a JSON object'],
    ['', 'sweep · not a JSON object'],
  ];
  for (const [text, expected] of cases) assert.equal(describeSweepFile(text), expected, text);
});
