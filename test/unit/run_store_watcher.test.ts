// The extension's follower of the run store on disk (extension/run_folder_watcher.ts): a run folder
// made by another process shows up without anyone telling the extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { RunFolderWatcher, isRelevantPath } from '../../extension/run_folder_watcher';
import { listRuns } from '../../sidecar/protocol/run_listing';

function nextChange(): { promise: Promise<void>; onChange: () => void } {
  let resolveChange!: () => void;
  let promise = new Promise<void>((res) => {
    resolveChange = res;
  });
  return {
    get promise() {
      return promise;
    },
    onChange: () => {
      const r = resolveChange;
      promise = new Promise<void>((res) => {
        resolveChange = res;
      });
      r();
    },
  };
}

/** Creates a run folder from a separate Node process, as `l3m train` in a terminal would. */
function createRunInAnotherProcess(runsDir: string, experiment: string): Promise<void> {
  const script = `
    const { mkdirSync, writeFileSync } = require('node:fs');
    const dir = ${JSON.stringify(runsDir)} + '/' + ${JSON.stringify(experiment)} + '/20260101-000000-abcd';
    mkdirSync(dir, { recursive: true });
    writeFileSync(dir + '/run.json', JSON.stringify({ id: '20260101-000000-abcd', experiment: ${JSON.stringify(experiment)}, task: 'regression', status: 'running', createdAt: new Date().toISOString(), version: '0.1.0' }));`;
  return new Promise((res, rej) =>
    spawn(process.execPath, ['-e', script], { stdio: 'inherit' }).on('exit', (code) =>
      code === 0 ? res() : rej(new Error(`exit ${code}`)),
    ),
  );
}

test('only folders and run.json matter to the listing', () => {
  const root = '/w/runs';
  assert.equal(isRelevantPath(root, '/w/runs/quick'), true);
  assert.equal(isRelevantPath(root, '/w/runs/quick/20260101-000000-abcd'), true);
  assert.equal(isRelevantPath(root, '/w/runs/quick/20260101-000000-abcd/run.json'), true);
  assert.equal(isRelevantPath(root, '/w/runs/quick/20260101-000000-abcd/metrics.jsonl'), false);
  assert.equal(isRelevantPath(root, '/w/runs/quick/20260101-000000-abcd/checkpoints/last.safetensors'), false);
  assert.equal(isRelevantPath(root, '/w/runs/quick/20260101-000000-abcd/.tmp-run.json.1.ab'), false);
});

test('a run folder created by another process is noticed, also when the runs folder did not exist yet', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'l3m-watch-'));
  const runsDir = join(parent, 'runs');
  const changes = nextChange();
  const watcher = new RunFolderWatcher(runsDir, changes.onChange, { debounceMs: 20, pollMissingMs: 50 });
  t.after(async () => {
    await watcher.dispose();
    rmSync(parent, { recursive: true, force: true });
  });

  // The runs folder appears: the watcher notices it and starts following it.
  let next = changes.promise;
  mkdirSync(runsDir);
  await next;
  await watcher.ready();

  next = changes.promise;
  await createRunInAnotherProcess(runsDir, 'quick');
  await next;
  const listing = await listRuns(runsDir);
  assert.deepEqual(
    listing.map((l) => [l.experiment, l.runId, l.kind]),
    [['quick', '20260101-000000-abcd', 'run']],
  );
});
