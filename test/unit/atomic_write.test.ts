import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../sidecar/runs/atomic_write';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'l3m-atomic-'));
}

test('writeFileAtomic replaces the content and leaves no temporary file', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'run.json');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, '{"new":true}');
    assert.equal(readFileSync(path, 'utf8'), '{"new":true}');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    assert.deepEqual(readdirSync(dir), ['run.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomicSync replaces the content and leaves no temporary file', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'a.txt');
    writeFileAtomicSync(path, 'one');
    writeFileAtomicSync(path, 'two');
    assert.equal(readFileSync(path, 'utf8'), 'two');
    assert.deepEqual(readdirSync(dir), ['a.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write keeps the old file and removes its temporary file', async () => {
  const dir = tempDir();
  try {
    // The target is a non-empty directory, so the final rename fails after the temp file was written.
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    await assert.rejects(writeFileAtomic(target, 'data'));
    assert.throws(() => writeFileAtomicSync(target, 'data'));
    assert.deepEqual(readdirSync(dir), ['target']);
    assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent atomic writes leave one whole version, never a mixture', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'big.json');
    const versions = ['a', 'b', 'c', 'd'].map((c) => c.repeat(200_000));
    await Promise.all(versions.map((v) => writeFileAtomic(path, v)));
    assert.ok(versions.includes(readFileSync(path, 'utf8')));
    assert.deepEqual(readdirSync(dir), ['big.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
