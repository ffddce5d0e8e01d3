// A FIFO (named pipe) where a data file, a checkpoint or a config belongs: opening it for reading would
// block until some process writes to it, so a run would stay "running" forever. Every reader refuses it at
// once, naming the path and what was expected. The readers run in a child process (fifo_reader_child.ts)
// so that a regression shows as a failed test instead of a test process that never ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../sidecar/data/npy';
import { fiducialParams } from '../../sidecar/data/parameters';
import type { FifoReader } from './fifo_reader_child';

/** Each reader, the FIFO's name in its own folder, and the regular files that folder needs besides. */
const cases: { reader: FifoReader; name: string; siblings?: Record<string, string | Uint8Array>; expected: RegExp }[] =
  [
    { reader: 'npz', name: 'cone.npz', expected: /expected an \.npz file written by numpy\.savez/ },
    {
      reader: 'npy',
      name: 'cone.npy',
      siblings: { 'cone.json': JSON.stringify(fiducialParams) },
      expected: /expected an \.npy array/,
    },
    {
      reader: 'npy',
      name: 'cone.json',
      siblings: { 'cone.npy': writeNpy(new Float32Array(8), [2, 2, 2]) },
      expected: /expected a JSON object with mWDM/,
    },
    { reader: 'hdf5', name: 'cone.h5', expected: /expected a 21cmFAST lightcone \.h5 file/ },
    { reader: 'safetensors', name: 'model.safetensors', expected: /expected a safetensors file/ },
    {
      reader: 'hf-config',
      name: 'config.json',
      expected: /expected the config\.json of a Hugging Face Qwen2 checkpoint/,
    },
    { reader: 'checkpoint-metadata', name: 'step-000010.json', expected: /expected the metadata JSON of a checkpoint/ },
  ];

test('a FIFO in place of any input file is refused at once, naming it', (t) => {
  if (process.platform === 'win32') {
    t.skip('Windows has no FIFOs in the file system (mkfifo)');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'l3m-fifo-'));
  const inputs = cases.map(({ reader, name, siblings }, i) => {
    const folder = join(root, `case-${i}`);
    mkdirSync(folder);
    for (const [sibling, content] of Object.entries(siblings ?? {})) writeFileSync(join(folder, sibling), content);
    const made = spawnSync('mkfifo', [join(folder, name)]);
    if (made.error || made.status !== 0) return undefined;
    return { reader, path: join(folder, name) };
  });
  if (inputs.some((input) => input === undefined)) {
    t.skip('mkfifo is not available here, so no FIFO can be made');
    return;
  }
  // The time limit only ends a child that blocked on a FIFO (a failure); a passing run takes seconds.
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'fifo_reader_child.ts'), JSON.stringify(inputs)],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const results = child.stdout
    .trim()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { reader: string; outcome: string; message?: string });
  assert.equal(
    results.length,
    cases.length,
    `every reader returns (${results.length} of ${cases.length} did; the next one blocked on its FIFO). stderr: ${child.stderr}`,
  );
  cases.forEach(({ reader, name, expected }, i) => {
    const result = results[i];
    assert.equal(result.outcome, 'refused', `${reader} refuses a FIFO named ${name}`);
    assert.ok(result.message!.includes(inputs[i]!.path), `${reader}: the message names the FIFO: ${result.message}`);
    assert.match(result.message!, /is a FIFO \(named pipe\), not a regular file/, reader);
    assert.match(result.message!, expected, reader);
  });
});
