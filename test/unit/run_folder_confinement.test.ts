// Symbolic links in a run folder never make a reader show a file outside it: run.json, config.json,
// metrics.jsonl (read whole and followed), samples/ itself, a sample .npy, eval/regression.json and
// the data preview's files each lead to a file outside, and every reader refuses with a sentence
// naming the link and its target. Links that stay inside the run folder, and a run folder that is
// itself a link, still read. The config a run was started from is used only inside the workspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareRun,
  inspectorInit,
  inspectorSample,
  monitorInit,
  readMetrics,
  readRunSummary,
} from '../../extension/panels/run_data';
import { MetricsFollower } from '../../extension/panels/metrics_follower';
import { previewConfig, readDataPreview } from '../../extension/panels/data_preview';
import { readRunFolder } from '../../sidecar/protocol/run_listing';
import { runConfigToOpen } from '../../extension/run_config';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { npyBytes, trainingRecords, writeMetrics, writeRun, writeSamples } from '../browser/run_fixtures';

/** A temporary folder holding `runs/` and, beside it, `outside/` with files a link may point to. */
function withFolders(
  body: (paths: { root: string; runs: string; outside: string }) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'l3m-confine-')));
    const runs = join(root, 'runs');
    const outside = join(root, 'outside');
    mkdirSync(runs);
    mkdirSync(outside);
    try {
      await body({ root, runs, outside });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

const secretRecord = {
  id: 'SECRET-RUN',
  experiment: 'SECRET',
  task: 'generation',
  status: 'completed',
  createdAt: '2026-01-01T00:00:00Z',
  version: '0',
};

test(
  'run.json that is a link outside the run folder is not read',
  withFolders(async ({ runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'generation', {});
    writeFileSync(join(outside, 'record.json'), JSON.stringify(secretRecord));
    rmSync(join(runDir, 'run.json'));
    symlinkSync(join(outside, 'record.json'), join(runDir, 'run.json'));
    const summary = await readRunSummary(runDir);
    assert.equal(summary.run.record, null, 'the panels show no record read through the link');
    assert.match(summary.problems[0], /run\.json leads to .*outside.*record\.json, outside the run folder/);
    const listing = await readRunFolder(runDir);
    assert.equal(listing.kind, 'unreadable', 'the Runs view lists the run as unreadable');
    assert.match(listing.kind === 'unreadable' ? listing.reason : '', /outside the run folder/);
  }),
);

test(
  'config.json that is a link outside the run folder is not shown in Compare',
  withFolders(async ({ runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'generation', {});
    writeFileSync(join(outside, 'secret.json'), JSON.stringify({ secret: 'SECRET-CONFIG' }));
    rmSync(join(runDir, 'config.json'));
    symlinkSync(join(outside, 'secret.json'), join(runDir, 'config.json'));
    const run = await compareRun(runDir);
    assert.equal(run.config, null);
    assert.ok(
      run.problems.some((p) => /config\.json leads to .*secret\.json, outside the run folder/.test(p)),
      run.problems.join(' | '),
    );
  }),
);

test(
  'metrics.jsonl that is a link outside is neither read whole nor followed',
  withFolders(async ({ runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'generation', {});
    writeMetrics(outside, trainingRecords(5, 100));
    symlinkSync(join(outside, 'metrics.jsonl'), join(runDir, 'metrics.jsonl'));
    const read = await readMetrics(runDir);
    assert.equal(read.records.length, 0);
    assert.match(read.problems[0], /metrics\.jsonl leads to .*outside the run folder/);
    assert.equal((await monitorInit(runDir)).message.columns.step.length, 0);
    const got: MetricRecord[] = [];
    const problems: string[] = [];
    const follower = new MetricsFollower(runDir, 0, {
      onRecords: (r, p) => {
        got.push(...r);
        problems.push(...p);
      },
      onReset: () => undefined,
    });
    await follower.readAppended();
    assert.equal(got.length, 0, 'the follower reads nothing through the link');
    assert.match(problems[0], /metrics\.jsonl leads to .*outside the run folder/);
  }),
);

test(
  'a sample .npy, or samples/ itself, linked outside the run folder is not read',
  withFolders(async ({ runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'generation', {});
    writeSamples(runDir, 6, 8);
    writeFileSync(join(outside, 'secret.npy'), npyBytes([1, 2, 2], new Float32Array([7, 7, 7, 7])));
    rmSync(join(runDir, 'samples', 'lc0_truth.npy'));
    symlinkSync(join(outside, 'secret.npy'), join(runDir, 'samples', 'lc0_truth.npy'));
    const init = await inspectorInit(runDir);
    const sample = await inspectorSample(runDir, init.samples, 0);
    assert.equal(sample.truth, null);
    assert.ok(sample.generated !== null, 'the generated file beside it, a real file, still reads');
    assert.match(sample.problems[0], /samples\/lc0_truth\.npy leads to .*secret\.npy, outside the run folder/);

    // samples/ itself a link to a folder outside: neither its index nor its files are read.
    const other = writeRun(runs, 'e', 'r2', 'generation', {});
    writeSamples(join(outside, 'elsewhere'), 6, 8);
    symlinkSync(join(outside, 'elsewhere', 'samples'), join(other, 'samples'));
    const linked = await inspectorInit(other);
    assert.equal(linked.samples, null);
    assert.match(linked.problems.join(' | '), /samples\/index\.json leads to .*outside the run folder/);
    const forced = await inspectorSample(other, init.samples, 0);
    assert.equal(forced.truth, null);
    assert.equal(forced.generated, null);
  }),
);

test(
  'eval/regression.json and data-preview files linked outside are not read',
  withFolders(async ({ runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'regression', {});
    writeFileSync(
      join(outside, 'regression.json'),
      JSON.stringify({ kind: 'regression', formatVersion: 1, parameters: [], points: [] }),
    );
    mkdirSync(join(runDir, 'eval'));
    symlinkSync(join(outside, 'regression.json'), join(runDir, 'eval', 'regression.json'));
    const init = await inspectorInit(runDir);
    assert.equal(init.regression, null);
    assert.match(init.problems.join(' | '), /eval\/regression\.json leads to .*outside the run folder/);

    const preview = join(runDir, 'data-preview');
    mkdirSync(preview);
    writeFileSync(
      join(preview, 'index.json'),
      JSON.stringify({
        lightcone: 0,
        files: [
          { file: 'slice-0.npy', slice: 0 },
          { file: 'slice-1.npy', slice: 1 },
        ],
      }),
    );
    writeFileSync(join(preview, 'slice-0.npy'), npyBytes([2, 2], new Float32Array([1, 2, 3, 4])));
    writeFileSync(join(outside, 'secret.npy'), npyBytes([2, 2], new Float32Array([9, 9, 9, 9])));
    symlinkSync(join(outside, 'secret.npy'), join(preview, 'slice-1.npy'));
    const message = await readDataPreview(runDir);
    assert.deepEqual(message.slices, [0], 'only the real file is shown');
    assert.match(
      message.problems.join(' | '),
      /data-preview\/slice-1\.npy leads to .*secret\.npy, outside the run folder/,
    );
  }),
);

test(
  'links that stay inside the run folder, and a run folder that is a link, still read',
  withFolders(async ({ root, runs }) => {
    const real = writeRun(join(root, 'big-disk'), 'e', 'r1', 'generation', {});
    writeMetrics(real, trainingRecords(4, 100));
    const { truth } = writeSamples(real, 6, 8);
    symlinkSync(join(real, 'samples', 'lc0_truth.npy'), join(real, 'samples', 'latest.npy'));
    mkdirSync(join(runs, 'e'));
    symlinkSync(real, join(runs, 'e', 'r1'));
    const runDir = join(runs, 'e', 'r1');
    assert.equal((await readMetrics(runDir)).records.length, 4);
    const init = await inspectorInit(runDir);
    const sample = await inspectorSample(
      runDir,
      { entries: [{ ...init.samples!.entries[0], truth: 'latest.npy' }] },
      0,
    );
    assert.deepEqual(sample.problems, []);
    assert.equal(sample.truth?.byteLength, npyBytes([6, 8, 8], truth).length);
    assert.equal((await readRunFolder(runDir)).kind, 'run');
  }),
);

test(
  "the data preview uses the source config only inside the workspace, else the run's own config.json",
  withFolders(async ({ root, runs, outside }) => {
    const workspace = root;
    const runDir = writeRun(runs, 'e', 'r1', 'regression', {});
    const record = (configPath: string) =>
      writeFileSync(
        join(runDir, 'run.json'),
        JSON.stringify({ ...secretRecord, id: 'r1', experiment: 'e', configPath }),
      );
    const inside = join(workspace, 'e.l3m.json');
    writeFileSync(inside, '{}');
    record(inside);
    assert.deepEqual(await previewConfig(runDir, [workspace]), { path: inside });

    const elsewhere = mkdtempSync(join(tmpdir(), 'l3m-elsewhere-'));
    try {
      const foreign = join(elsewhere, 'e.l3m.json');
      writeFileSync(foreign, '{}');
      record(foreign);
      const chosen = await previewConfig(runDir, [workspace]);
      assert.ok(
        'path' in chosen && chosen.path === join(realpathSync(runDir), 'config.json'),
        `the run's config.json, got ${JSON.stringify(chosen)}`,
      );
      // A link inside the workspace that leads outside it is outside as well.
      symlinkSync(foreign, join(workspace, 'linked.l3m.json'));
      record(join(workspace, 'linked.l3m.json'));
      const linked = await previewConfig(runDir, [workspace]);
      assert.ok('path' in linked && linked.path.endsWith(join('r1', 'config.json')), JSON.stringify(linked));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }

    // The run's config.json linked outside the run folder: no preview at all, with the reason.
    record(join(workspace, 'gone.l3m.json'));
    writeFileSync(join(outside, 'c.json'), '{}');
    rmSync(join(runDir, 'config.json'));
    symlinkSync(join(outside, 'c.json'), join(runDir, 'config.json'));
    const refused = await previewConfig(runDir, [workspace]);
    assert.ok(
      'problem' in refused && /config\.json leads to .*outside the run folder/.test(refused.problem),
      JSON.stringify(refused),
    );
  }),
);

test(
  "Open Config: the source config inside the workspace when trusted, else the run's own config.json with the reason",
  withFolders(async ({ root, runs, outside }) => {
    const runDir = writeRun(runs, 'e', 'r1', 'regression', {});
    const own = join(runDir, 'config.json');
    const inside = join(root, 'e.l3m.json');
    writeFileSync(inside, '{}');
    assert.deepEqual(await runConfigToOpen(runDir, inside, [root], true), { path: inside });
    assert.deepEqual(
      await runConfigToOpen(runDir, join(root, 'deleted.l3m.json'), [root], true),
      { path: own },
      'a deleted source: the copy, silently',
    );

    const foreign = join(outside, 'secret.l3m.json');
    writeFileSync(foreign, '{"secret": "SECRET"}');
    const passedOver = await runConfigToOpen(runDir, foreign, [join(root, 'workspace-elsewhere')], true);
    assert.ok('path' in passedOver && passedOver.path === own, JSON.stringify(passedOver));
    assert.match(
      'path' in passedOver ? (passedOver.note ?? '') : '',
      /secret\.l3m\.json, lies outside the run folder and the workspace folders/,
    );

    const untrusted = await runConfigToOpen(runDir, inside, [root], false);
    assert.ok('path' in untrusted && untrusted.path === own, 'untrusted: never the file run.json names');
    assert.match('path' in untrusted ? (untrusted.note ?? '') : '', /untrusted workspace/);

    rmSync(own);
    symlinkSync(foreign, own);
    const refused = await runConfigToOpen(runDir, undefined, [root], true);
    assert.ok(
      'problem' in refused && /config\.json leads to .*secret\.l3m\.json, outside the run folder/.test(refused.problem),
      JSON.stringify(refused),
    );
  }),
);
