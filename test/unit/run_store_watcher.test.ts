// The extension's follower of the run store on disk (extension/run_folder_watcher.ts): a run folder
// made by another process shows up without anyone telling the extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { RunFolderWatcher, isRelevantPath } from '../../extension/run_folder_watcher';
import { listRuns } from '../../sidecar/protocol/run_listing';
import type { WatchMode } from '../../extension/watch_mode';

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
  // The sweep folders are hidden from the run listing, but their sweep.json and state.json matter.
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps'), true);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/s-20260101-000000-abcd'), true);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/s-20260101-000000-abcd/sweep.json'), true);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/s-20260101-000000-abcd/state.json'), true);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/s-20260101-000000-abcd/.tmp-state.json.1'), false);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/s-20260101-000000-abcd/slurm/1_0.out'), false);
  assert.equal(isRelevantPath(root, '/w/runs/.sweeps/.tmp-s-1'), false);
  assert.equal(isRelevantPath(root, '/w/runs/.other/x'), false);
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

test('polling (l3m.watchPolling "always"), as on a network file system: runs and sweeps are noticed, and the mode is told', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-watch-poll-'));
  const changes = nextChange();
  const modes: WatchMode[] = [];
  const watcher = new RunFolderWatcher(runsDir, changes.onChange, {
    debounceMs: 20,
    polling: 'always',
    pollIntervalMs: 50,
    onMode: (mode) => modes.push(mode),
  });
  t.after(async () => {
    await watcher.dispose();
    rmSync(runsDir, { recursive: true, force: true });
  });
  await watcher.ready();
  assert.deepEqual(modes, [{ polling: true, reason: 'l3m.watchPolling is "always"' }]);
  assert.deepEqual(watcher.mode, modes[0]);

  let next = changes.promise;
  await createRunInAnotherProcess(runsDir, 'quick');
  await next;
  assert.equal((await listRuns(runsDir)).length, 1);

  // A sweep folder written by another process (a cluster's login node): its sweep.json is seen.
  next = changes.promise;
  const sweepDir = join(runsDir, '.sweeps', 's-20260101-000000-abcd');
  mkdirSync(sweepDir, { recursive: true });
  writeFileSync(join(sweepDir, 'sweep.json'), '{}');
  await next;
  next = changes.promise;
  writeFileSync(join(sweepDir, 'state.json'), '{"cancelled":true}');
  await next;
});

test('without a setting, a local runs folder is followed by native events and says so', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-watch-native-'));
  const modes: WatchMode[] = [];
  const watcher = new RunFolderWatcher(runsDir, () => undefined, { onMode: (mode) => modes.push(mode) });
  t.after(async () => {
    await watcher.dispose();
    rmSync(runsDir, { recursive: true, force: true });
  });
  await watcher.ready();
  assert.equal(modes.length, 1);
  assert.equal(modes[0].polling, false, modes[0].reason);
});
