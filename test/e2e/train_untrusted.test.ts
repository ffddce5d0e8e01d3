// Restricted Mode (an untrusted workspace): the views still list configs and runs, but nothing that
// runs code or acts on what a workspace file names happens. Train, Run Sweep, Sample and Cancel are refused with
// the reason; the inspector of a run without samples does not run `l3m data` on its config; Open
// Config opens the run's own config.json, never the file run.json names as its source. No run folder
// is created, no process is signalled, and no sidecar process starts. A separate file because it
// needs its own code-server start with Workspace Trust turned on.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readProcessIdentity } from '../../sidecar/protocol/run_process';
import { writeRun } from '../browser/run_fixtures';
import { launchStudio, type Studio } from './harness';
import { tinyRegressionConfig } from './tiny_regression_config';
import { chooseMenuItem, panelFrame, waitFor } from './workbench_ui';

const experiment = 'e2e-untrusted';

/** Processes whose command line runs this session's copy of the sidecar (`serve`, or `l3m data`). */
function sidecarProcesses(studio: Studio): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let commandLine: string;
    try {
      commandLine = readFileSync(join('/proc', pid, 'cmdline'), 'utf8')
        .split('\0')
        .join(' ');
    } catch {
      continue; // exited meanwhile
    }
    if (commandLine.includes(studio.sessionRoot) && commandLine.includes('sidecar.js'))
      found.push(`${pid}: ${commandLine}`);
  }
  return found;
}

/** A node process that prints "ready", then "got SIGINT" and exits when interrupted. */
async function signalListener(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "process.on('SIGINT', () => { process.stdout.write('got SIGINT\\n'); process.exit(0); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  while (!text.includes('ready')) await once(child.stdout, 'data');
  return { child, output: () => text };
}

describe('L3M in an untrusted workspace', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;

  before(async () => {
    studio = await launchStudio({ workspaceTrust: 'untrusted' });
  });

  after(async () => {
    await studio?.close();
  });

  const toast = (text: RegExp) =>
    studio.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();

  test('Train is refused with the reason, and no run is created', async () => {
    await studio.screenshotOnFailure('train-untrusted', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Experiments', /^quickstart-regression(\.l3m\.json)?$/);
      await row.hover();
      await row
        .locator('.actions .action-label[aria-label="Train"], .actions .action-label[title="Train"]')
        .first()
        .click();
      const refused = toast(/does not train in an untrusted workspace/);
      await refused.waitFor({ state: 'visible' });
      assert.match(await refused.innerText(), /Trust this workspace to train/);
      assert.deepEqual(readdirSync(join(studio.workspace, 'runs')), [], 'no run folder');
    });
  });

  test('Run Sweep is refused with the reason, and no sweep or run is created', async () => {
    await studio.screenshotOnFailure('sweep-untrusted', async () => {
      await studio.openL3MView();
      // examples/ holds a sweep file; the Experiments view lists it beside the configs.
      const row = await studio.revealTreeItem('Experiments', /^quickstart-sweep$/);
      await row.hover();
      await row
        .locator('.actions .action-label[aria-label="Run Sweep"], .actions .action-label[title="Run Sweep"]')
        .first()
        .click();
      const refused = toast(/does not run a sweep in an untrusted workspace/);
      await refused.waitFor({ state: 'visible' });
      assert.match(await refused.innerText(), /Trust this workspace to run a sweep/);
      assert.deepEqual(readdirSync(join(studio.workspace, 'runs')), [], 'no sweep or run folder');
      assert.deepEqual(sidecarProcesses(studio), [], 'no sidecar process');
    });
  });

  test('the inspector of a run without samples does not run l3m data on its config', async () => {
    const runDir = writeRun(
      join(studio.workspace, 'runs'),
      experiment,
      '20260101-120000-u001',
      'regression',
      tinyRegressionConfig(experiment, 10, 10),
    );
    await studio.screenshotOnFailure('untrusted-inspector', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', /20260101-120000-u001/);
      await row.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Inspect Lightcones');
      const frame = await panelFrame(studio.page, 'inspector', 60_000, experiment);
      const problems = await waitFor<string[]>(
        frame,
        '(() => { const p = window.l3mPanel.problems(); return p.some((x) => /not read in an untrusted workspace/.test(x)) ? p : false; })()',
      );
      assert.match(problems.join(' | '), /Trust this workspace to see them/);
      assert.equal(existsSync(join(runDir, 'data-preview')), false, 'l3m data wrote nothing');
      assert.deepEqual(sidecarProcesses(studio), [], 'no l3m data or sidecar process runs');
    });
  });

  test('Sample is refused with the reason, and no sidecar starts', async () => {
    writeRun(join(studio.workspace, 'runs'), experiment, '20260101-120000-u002', 'generation', { task: 'generation' });
    await studio.screenshotOnFailure('untrusted-sample', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', /20260101-120000-u002/);
      await row.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Sample Lightcones');
      const refused = toast(/does not sample in an untrusted workspace/);
      await refused.waitFor({ state: 'visible' });
      assert.match(await refused.innerText(), /Trust this workspace to sample/);
      assert.deepEqual(sidecarProcesses(studio), [], 'no sidecar process');
      assert.equal(existsSync(join(studio.workspace, 'runs', experiment, '20260101-120000-u002', 'samples')), false);
    });
  });

  test('Cancel is refused with the reason, and the process run.json names gets no signal', async () => {
    const { child, output } = await signalListener();
    try {
      // run.json names the listener with its true identity: only the trust check can stop the signal.
      const runDir = writeRun(
        join(studio.workspace, 'runs'),
        experiment,
        '20260101-120000-u003',
        'regression',
        {},
        'running',
      );
      const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(
        join(runDir, 'run.json'),
        JSON.stringify({
          ...record,
          pid: child.pid,
          host: hostname(),
          processIdentity: readProcessIdentity(child.pid!),
        }),
      );
      await studio.screenshotOnFailure('untrusted-cancel', async () => {
        await studio.openL3MView();
        const row = await studio.revealTreeItem('Runs', /20260101-120000-u003/);
        await row.hover();
        await row
          .locator('.actions .action-label[aria-label="Cancel Run"], .actions .action-label[title="Cancel Run"]')
          .first()
          .click();
        const refused = toast(/does not cancel a run in an untrusted workspace/);
        await refused.waitFor({ state: 'visible' });
        assert.match(await refused.innerText(), /Trust this workspace to cancel a run/);
        assert.equal(child.exitCode, null, 'the process still runs');
        assert.doesNotMatch(output(), /SIGINT/);
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  test("Open Config opens the run's own config.json, not the file run.json names", async () => {
    const secret = join(studio.sessionRoot, 'outside-secret.l3m.json');
    writeFileSync(secret, '{ "name": "OUTSIDE-SECRET" }\n');
    const runDir = writeRun(join(studio.workspace, 'runs'), experiment, '20260101-120000-u004', 'regression', {
      name: 'run-own-config',
    });
    const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ ...record, configPath: secret }));
    await studio.screenshotOnFailure('untrusted-open-config', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', /20260101-120000-u004/);
      await row.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Open Config');
      await studio.page.locator('.tabs-container .tab.active[aria-label*="config.json"]').waitFor({ state: 'visible' });
      const text = await studio.page.locator('.editor-instance .monaco-editor .view-lines').first().innerText();
      assert.match(text, /run-own-config/);
      assert.doesNotMatch(text, /OUTSIDE-SECRET/);
      assert.equal(
        await studio.page.locator('.tabs-container .tab[aria-label*="outside-secret"]').count(),
        0,
        'the outside file was not opened',
      );
    });
  });

  test('no sidecar process was started in the whole session', () => {
    assert.deepEqual(sidecarProcesses(studio), []);
  });
});
