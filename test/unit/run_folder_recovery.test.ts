// What an interrupted writer leaves in a run folder, and how the run store recovers: a run folder appears
// whole or not at all; a resumed run's metrics continue from its checkpoint's step without repeating a
// step, and readers show each (split, step) once; temporary files of a killed process are removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestPerStep, parseMetricsJsonl, type MetricRecord } from '../../sidecar/protocol/run_folder';
import { appendMetrics, createRun, listRuns, readMetrics, rewindMetrics } from '../../sidecar/runs/run_store';
import { removeTemporaryFiles } from '../../sidecar/runs/run_cleanup';
import { removeAbandonedTemporaryFolders } from '../../sidecar/data/dataset_cache';
import { readMetrics as readPanelMetrics } from '../../extension/panels/run_data';

/** The pid of a process that has exited: what a killed writer's pid looks like afterwards. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const record = (split: MetricRecord['split'], step: number, loss: number, wallTime = step): MetricRecord => ({
  step,
  epoch: step / 10,
  wall_time: wallTime,
  split,
  loss,
});

test('a run folder whose creation fails part way never shows up, and a killed creation is cleaned by the next', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-create-'));
  // A config that cannot be serialised fails the write after the folder was claimed, where a kill
  // between creating the folder and writing run.json would stop.
  const unserialisable = {
    toJSON() {
      throw new Error('disk full');
    },
  };
  await assert.rejects(
    createRun({ runsDir, experiment: 'exp', task: 'regression', config: unserialisable }),
    /disk full/,
  );
  assert.deepEqual(await listRuns(runsDir), []);
  assert.deepEqual(readdirSync(join(runsDir, 'exp')), [], 'nothing is left behind');

  // A creation killed before its rename leaves a hidden temporary folder; the next creation removes it.
  const abandoned = join(runsDir, 'exp', `.tmp-20260101-000000-abcd.${deadPid()}.0123abcd`);
  mkdirSync(abandoned);
  writeFileSync(join(abandoned, 'config.json'), '{}');
  const created = await createRun({ runsDir, experiment: 'exp', task: 'regression', config: { a: 1 } });
  assert.deepEqual(readdirSync(join(runsDir, 'exp')), [created.runId]);
  const listing = await listRuns(runsDir);
  assert.equal(listing.length, 1);
  assert.equal(listing[0].kind, 'run');
  assert.deepEqual(JSON.parse(readFileSync(join(created.runDir, 'config.json'), 'utf8')), { a: 1 });
  rmSync(runsDir, { recursive: true, force: true });
});

test('rewindMetrics keeps the lines up to the checkpoint step, drops later ones, test lines and a torn last line', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'l3m-rewind-'));
  await appendMetrics(runDir, [
    record('train', 9, 1),
    record('train', 10, 0.9),
    record('val', 10, 0.95),
    record('train', 11, 0.8),
    record('train', 12, 0.7),
  ]);
  writeFileSync(
    join(runDir, 'metrics.jsonl'),
    readFileSync(join(runDir, 'metrics.jsonl'), 'utf8') + 'not json but a whole line\n{"step": 13, "ep',
    'utf8',
  );
  await rewindMetrics(runDir, 10);
  const text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  assert.ok(text.endsWith('\n'));
  assert.match(text, /not json but a whole line/, 'a damaged line is kept for whoever investigates');
  assert.deepEqual(
    parseMetricsJsonl(text).records.map((r) => `${r.split}@${r.step}`),
    ['train@9', 'train@10', 'val@10'],
  );
  await appendMetrics(runDir, [record('train', 11, 0.8, 11)]);
  assert.deepEqual(
    (await readMetrics(runDir)).records.map((r) => `${r.split}@${r.step}`),
    ['train@9', 'train@10', 'val@10', 'train@11'],
  );
  await rewindMetrics(runDir, 0);
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), 'not json but a whole line\n');
  rmSync(runDir, { recursive: true, force: true });
});

test('readers show each (split, step) once: the last line written wins', async () => {
  const lines = [
    record('train', 1, 1),
    record('train', 2, 2),
    record('val', 2, 5),
    record('train', 3, 3),
    record('train', 2, 20),
    record('train', 3, 30),
    record('train', 4, 40),
  ];
  assert.deepEqual(
    latestPerStep(lines).map((r) => `${r.split}@${r.step}=${r.loss}`),
    ['train@1=1', 'val@2=5', 'train@2=20', 'train@3=30', 'train@4=40'],
  );
  const runDir = mkdtempSync(join(tmpdir(), 'l3m-dedupe-'));
  await appendMetrics(runDir, lines);
  assert.deepEqual(
    (await readMetrics(runDir)).records.map((r) => `${r.split}@${r.step}`),
    ['train@1', 'val@2', 'train@2', 'train@3', 'train@4'],
  );
  // The panels' reader (monitor, compare) as well.
  assert.deepEqual(
    (await readPanelMetrics(runDir)).records.map((r) => `${r.split}@${r.step}=${r.loss}`),
    ['train@1=1', 'val@2=5', 'train@2=20', 'train@3=30', 'train@4=40'],
  );
  rmSync(runDir, { recursive: true, force: true });
});

test('temporary files of a killed writer are removed from the run folder, and abandoned dataset folders from the cache', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'l3m-temp-'));
  mkdirSync(join(runDir, 'checkpoints'));
  mkdirSync(join(runDir, 'samples'));
  const pid = deadPid();
  const temporary = [
    join(runDir, `.tmp-run.json.${pid}.0a0b0c0d`),
    join(runDir, 'checkpoints', `.tmp-best.content.safetensors.${pid}.0a0b0c0d`),
    join(runDir, 'samples', `.tmp-index.json.${pid}.0a0b0c0d`),
  ];
  // A writer that is still alive (here, this process) keeps its temporary file.
  const ours = join(runDir, `.tmp-config.json.${process.pid}.0a0b0c0d`);
  writeFileSync(ours, 'being written');
  for (const path of temporary) writeFileSync(path, 'partial');
  writeFileSync(join(runDir, 'run.json'), '{}');
  const removed = removeTemporaryFiles(runDir);
  assert.deepEqual(removed.sort(), temporary.sort());
  for (const path of temporary) assert.equal(existsSync(path), false, path);
  assert.ok(existsSync(join(runDir, 'run.json')));
  assert.ok(existsSync(ours));

  const cache = mkdtempSync(join(tmpdir(), 'l3m-cache-'));
  const dead = join(cache, `${'a'.repeat(64)}.tmp-${deadPid()}-lx2k3-abc123`);
  const live = join(cache, `${'b'.repeat(64)}.tmp-${process.pid}-lx2k3-abc123`);
  const finished = join(cache, 'c'.repeat(64));
  for (const folder of [dead, live, finished]) mkdirSync(folder);
  assert.deepEqual(await removeAbandonedTemporaryFolders(cache), [dead]);
  assert.deepEqual(
    readdirSync(cache).sort(),
    ['b'.repeat(64) + live.slice(live.lastIndexOf('.tmp-')), 'c'.repeat(64)].sort(),
  );
  rmSync(runDir, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});
