// The Sample action in the real workbench, from the context menu to the slices on disk. A tiny
// generation experiment is trained for real with the sidecar's `l3m train` into the studio workspace's
// runs/ folder; in code-server the run is right-clicked in the Runs view → Sample Lightcones, the three
// quick picks are answered (test lightcone, context slices, slices to generate), and the completion
// message's "Open in Inspector" button opens the inspector on the new sample. The run folder is checked
// as the sidecar wrote it: samples/index.json lists the entry and its .npy files hold the asked slices.
// Sample on a regression run is refused with a message that names the run's task.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { isolatedEnv } from '../../scripts/workbench/code_server';
import { repoRoot } from '../../scripts/workbench/install';
import { readNpy } from '../../sidecar/data/npy';
import type { SampleIndex } from '../../sidecar/protocol/run_folder';
import { writeRun } from '../browser/run_fixtures';
import { tinyGenerationModel } from '../integration/train_fixture';
import { launchStudio, type Studio } from './harness';
import { chooseMenuItem, panelFrame, waitFor } from './workbench_ui';

const experiment = 'e2e-sample';

/**
 * A generation run small enough to train in about half a minute on two shared cores: six cones of
 * the simulator's `test` preset (one lands in the test split), a one-block backbone, a one-block
 * velocity CNN with a two-step Euler solver, ten steps, and no next-patch evaluation.
 */
const generationConfig = {
  name: experiment,
  task: 'generation',
  ...tinyGenerationModel(),
  data: {
    source: 'simulator',
    simulator: { preset: 'test', count: 6, seed: 0 },
    splits: { validation_fraction: 0.17, test_fraction: 0.17, seed: 42 },
    preprocessing: { slice_transform: 'sgn_log1p', standardize: true, trim: true, trim_keep_slices: 20 },
    patch_size: 8,
    sublightcone: { length: 6, context: 2, stride: 16 },
    augmentation: { rotations: false, reflections: false, translations: false },
  },
  training: {
    batch_size: 4,
    unit: 'steps',
    steps: 10,
    lr: 0.002,
    schedule: { warmup: 2, decay: 4 },
    seed: 42,
    checkpoint_every: 10,
  },
  evaluation: {
    every: 10,
    batch_size: 4,
    next_patch_mse: false,
    generated_lightcones: 0,
    generation_context_slices: 2,
    generation_slices: 2,
  },
  runtime: { backend: 'cpu' },
};

/**
 * Trains the config with the real CLI and returns the run folder it printed. The child gets the
 * workbench's own HOME and XDG folders (the harness's isolated environment), so the simulated
 * dataset lands in the cache the studio's sidecar reads when it samples, and nothing in the
 * developer's home is touched.
 */
async function trainWithCli(studio: Studio, configPath: string): Promise<string> {
  const env = isolatedEnv(join(studio.sessionRoot, 'env'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'sidecar', 'cli', 'main.ts'),
      'train',
      configPath,
      '--runs-dir',
      join(studio.workspace, 'runs'),
    ],
    {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  assert.equal(code, 0, `l3m train ${configPath} exited with ${code}:\n${output.slice(-3000)}`);
  const runDir = /Completed\. Run folder: (.+)$/m.exec(output)?.[1]?.trim();
  assert.ok(
    runDir && existsSync(join(runDir, 'checkpoints', 'best.json')),
    `l3m train printed no completed run folder with a checkpoint:\n${output.slice(-3000)}`,
  );
  return runDir;
}

/** Waits for the quick pick titled `title`, checks which item it suggests first, and picks the item labelled `label`. */
async function answerQuickPick(page: Page, title: string, label: string): Promise<string> {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
  const rows = widget.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible' });
  const suggested = (await rows.first().locator('.label-name').first().innerText()).trim();
  await rows
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) })
    .first()
    .click();
  // The next pick reuses the same widget with a new title, so wait for this title to go.
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'hidden' });
  return suggested;
}

describe('Sample Lightcones from the Runs view', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;
  let runDir: string;
  let runId: string;

  before(async () => {
    studio = await launchStudio();
    const configPath = join(studio.workspace, `${experiment}.l3m.json`);
    writeFileSync(configPath, `${JSON.stringify(generationConfig, null, 2)}\n`);
    runDir = await trainWithCli(studio, configPath);
    runId = runDir.split('/').pop()!;
  });

  after(async () => {
    await studio?.close();
  });

  test('Sample on a trained generation run writes the slices and opens them in the inspector', async () => {
    await studio.screenshotOnFailure('sample-generation', async () => {
      const page = studio.page;
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', runId, 120_000);
      await row.locator('.label-description', { hasText: /^completed$/ }).waitFor({ state: 'visible' });
      await row.click({ button: 'right' });
      await chooseMenuItem(page, 'Sample Lightcones');

      // 6 cones × test_fraction 0.17 leave one test lightcone; the config suggests 2 context and 2 generated slices.
      assert.equal(await answerQuickPick(page, 'Sample: test lightcone', '0'), '0');
      assert.equal(await answerQuickPick(page, 'Sample: true slices given as context', '2'), '2');
      assert.equal(await answerQuickPick(page, 'Sample: slices to generate', '2'), '2');

      const done = page.locator('.notifications-toasts .notification-toast', { hasText: /L3M: wrote samples\// });
      const failed = page.locator('.notifications-toasts .notification-toast', { hasText: /L3M: sampling failed/ });
      await done.or(failed).first().waitFor({ state: 'visible', timeout: 180_000 });
      if (await failed.first().isVisible())
        assert.fail(`Sampling failed in the workbench: ${await failed.first().innerText()}`);
      const message = await done.first().innerText();
      assert.match(message, /L3M: wrote samples\/lc000-t0002-seed0-step\d{6}\.generated\.npy and its true slices\./);
      // Sampling has its own notification: the status bar (the training queue) does not show it as a run.
      assert.doesNotMatch(await page.locator('.part.statusbar').innerText(), /sampling slice/);

      // The run folder as the sidecar left it: one index entry, a truth file with the 2 context + 2
      // generated slices and a generated file with the 2 generated slices, all finite (mK).
      const index = JSON.parse(readFileSync(join(runDir, 'samples', 'index.json'), 'utf8')) as SampleIndex;
      assert.equal(index.entries.length, 1, JSON.stringify(index));
      const entry = index.entries[0];
      assert.deepEqual(
        {
          lightcone: entry.lightcone,
          contextSlices: entry.contextSlices,
          firstSlice: entry.firstSlice,
          generated: entry.generated,
        },
        {
          lightcone: 0,
          contextSlices: 2,
          firstSlice: 2,
          generated: `lc000-t0002-seed0-step${String(entry.checkpointStep).padStart(6, '0')}.generated.npy`,
        },
      );
      assert.ok(
        Number.isInteger(entry.checkpointStep),
        `the entry records its checkpoint's step: ${JSON.stringify(entry)}`,
      );
      // The simulator knows every slice's redshift and the `test` preset's 100 Mpc side.
      assert.equal(entry.redshifts?.length, 4, `a redshift per true slice: ${JSON.stringify(entry.redshifts)}`);
      assert.equal(entry.boxMpc, 100);
      const truth = readNpy(readFileSync(join(runDir, 'samples', entry.truth)), entry.truth);
      const generated = readNpy(readFileSync(join(runDir, 'samples', entry.generated)), entry.generated);
      assert.equal(truth.shape.length, 3);
      assert.deepEqual(truth.shape, [4, truth.shape[1], truth.shape[1]]);
      assert.deepEqual(generated.shape, [2, truth.shape[1], truth.shape[1]]);
      assert.ok(
        Array.from(generated.data).every(Number.isFinite),
        'every generated voxel is finite (no slice left unwritten)',
      );
      assert.ok(Array.from(truth.data).every(Number.isFinite), 'every true voxel is finite');

      // Open in Inspector: the panel of this run shows the sample, 4 slices (2 context + 2 generated).
      await done.first().locator('.monaco-button', { hasText: 'Open in Inspector' }).click();
      const inspector = await panelFrame(page, 'inspector', 60_000, runId);
      const shown = await waitFor<{ max: string; samples: string[]; label: string }>(
        inspector,
        "(() => { const s = document.querySelector('input.slice-slider'); const o = Array.from(document.querySelectorAll('vscode-option')).map((e) => e.textContent).filter((t) => /^lightcone /.test(t)); return s && s.max === '3' && o.length > 0 ? { max: s.max, samples: o, label: document.querySelector('.slice-label').textContent } : false; })()",
        120_000,
      );
      assert.deepEqual(
        { max: shown.max, samples: shown.samples },
        { max: '3', samples: [`lightcone 0, slices from 0 (2 context) · step ${entry.checkpointStep}`] },
      );
      // The first slice is labelled with the redshift the sample recorded and its observed 21cm frequency.
      const z = entry.redshifts?.[0] ?? NaN;
      assert.ok(
        shown.label.includes(`z = ${z.toFixed(2)} · ${(1420.405751 / (1 + z)).toFixed(1)} MHz`),
        `slice label "${shown.label}" for z = ${z}`,
      );
      await studio.screenshot('sample-inspector');
    });
  });

  test('Sample on a regression run is refused with a message naming its task', async () => {
    writeRun(join(studio.workspace, 'runs'), 'e2e-sample-regression', '20260101-120000-r001', 'regression', {});
    await studio.screenshotOnFailure('sample-regression', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', '20260101-120000-r001');
      await row.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Sample Lightcones');
      const toast = studio.page.locator('.notifications-toasts .notification-toast', {
        hasText: /20260101-120000-r001/,
      });
      await toast.first().waitFor({ state: 'visible' });
      assert.match(
        await toast.first().innerText(),
        /L3M: e2e-sample-regression\/20260101-120000-r001 is a regression run; only generation runs can sample lightcones\./,
      );
      // Refused before any quick pick: no question about lightcones was asked.
      assert.equal(
        await studio.page.locator('.quick-input-widget .quick-input-title', { hasText: /^Sample:/ }).isVisible(),
        false,
      );
    });
  });
});
