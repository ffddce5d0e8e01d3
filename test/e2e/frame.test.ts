// The frame of L3M Studio in a real VS Code workbench: what a user sees first must work there, not only
// in unit tests. The packaged extension is installed into code-server, the examples workspace is open,
// and Chromium drives it like a user.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../scripts/workbench/install';
import { launchStudio, type Studio } from './harness';

const examplesDir = join(repoRoot, 'examples');
const exampleNames = (existsSync(examplesDir) ? readdirSync(examplesDir) : [])
  .filter((name) => name.endsWith('.l3m.json'))
  .map((name) => name.slice(0, -'.l3m.json'.length))
  .sort();

describe('L3M Studio in code-server', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;

  before(async () => {
    studio = await launchStudio();
  });

  after(async () => {
    await studio?.close();
  });

  test('the L3M side bar lists the example experiments', async () => {
    assert.ok(exampleNames.length > 0, 'examples/ holds no *.l3m.json configs to look for');
    await studio.screenshotOnFailure('experiments', async () => {
      await studio.openL3MView();
      for (const name of exampleNames) {
        // The tree may label an experiment by its name or by its file name.
        await studio.waitForTreeItem('Experiments', new RegExp(`^${name}(\\.l3m\\.json)?$`));
      }
      const items = await studio.treeItems('Experiments');
      for (const name of exampleNames) {
        assert.ok(
          items.some((item) => item === name || item === `${name}.l3m.json`),
          `"${name}" is missing from the Experiments view: ${items.join(', ')}`,
        );
      }
    });
  });

  test('a broken config shows its diagnostics in the Problems panel', async () => {
    // Valid JSON with a key the schema does not know, and a value of the wrong type on line 3.
    writeFileSync(join(studio.workspace, 'broken.l3m.json'), '{\n  "bogusKnob": 3,\n  "training": "fast"\n}\n');
    await studio.screenshotOnFailure('problems', async () => {
      await studio.openFile('broken.l3m.json');
      const rows = await studio.waitForProblem(/bogusKnob.* at line 2 /);
      assert.ok(
        rows.some((row) => /broken\.l3m\.json/.test(row)),
        `no Problems entry names broken.l3m.json: ${rows.join(' | ')}`,
      );
      const markers = rows.filter((row) => /^(Error|Warning|Info)/.test(row));
      // VS Code's built-in JSON validation also checks the schema, but reports warnings only; errors
      // come from the L3M language server (schemaValidation 'error'), so they prove that it runs.
      assert.ok(
        markers.some((row) => /^Error: .*bogusKnob/.test(row)),
        `the unknown key is not reported as an error, so the L3M language server did not report it: ${markers.join(' | ')}`,
      );
      await studio.waitForProblem(/^Error: .* at line 3 /);
    });
  });

  test('a run folder written by another process appears in the Runs view', async () => {
    const experiment = exampleNames.find((name) => name.startsWith('quickstart-regression')) ?? exampleNames[0];
    const runId = '20260101-120000-e2e0';
    const runFolder = join(studio.workspace, 'runs', experiment, runId);
    mkdirSync(runFolder, { recursive: true });
    const now = new Date().toISOString();
    const record = {
      id: runId,
      experiment,
      task: 'regression',
      status: 'completed',
      createdAt: now,
      startedAt: now,
      endedAt: now,
      version: '0.1.0',
    };
    writeFileSync(join(runFolder, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    await studio.screenshotOnFailure('runs', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', new RegExp(runId));
      assert.match((await row.textContent()) ?? '', new RegExp(runId));
    });
  });
});
