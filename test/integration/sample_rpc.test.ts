// run/sample and run/evaluate of a generation run through the real server and engines over in-memory
// streams: a tiny generation run is trained with run/start on synthetic lightcones; run/sample then
// sends one run/samples notification and one progress notification per written slice; a request
// cancelled after its first slice stops early; run/evaluate writes eval/next_patch.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import { recordingClient } from './in_memory_server';
import { tinyGenerationData, tinyGenerationModel, writeSyntheticLightcones } from './train_fixture';

function generationConfig(): Record<string, unknown> {
  return {
    name: 'tiny-generation',
    task: 'generation',
    ...tinyGenerationModel(),
    data: tinyGenerationData(),
    training: {
      batch_size: 4,
      unit: 'steps',
      steps: 4,
      lr: 0.01,
      schedule: { warmup: 1, decay: 2 },
      checkpoint_every: 2,
      seed: 3,
    },
    evaluation: {
      every: 2,
      batch_size: 4,
      next_patch_mse: true,
      next_patch_lightcones: 1,
      cfm_samples_per_patch: 1,
      generated_lightcones: 0,
    },
    runtime: { backend: 'cpu' },
  };
}

test('run/sample notifies each slice and stops when cancelled; run/evaluate of a generation run', async (t) => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-sample-rpc-'));
  const runsDir = join(workspace, 'runs');
  const rpc = recordingClient();
  t.after(() => {
    rpc.close();
    rmSync(workspace, { recursive: true, force: true });
  });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeSyntheticLightcones(workspace, { lightcones: 12, slices: 32 });
  const configPath = join(workspace, 'tiny-generation.l3m.json');
  writeFileSync(configPath, JSON.stringify(generationConfig(), null, 2));
  await rpc.client.sendRequest(protocol.initialize, {
    clientName: 'sample test',
    protocolVersion: protocol.protocolVersion,
    runsDir,
  });
  const started = await rpc.client.sendRequest(protocol.startRun, { configPath, runsDir });
  await rpc.until(() =>
    rpc.states.some((s) => s.runDir === started.runDir && (s.kind === 'completed' || s.kind === 'failed')),
  );
  assert.equal(
    rpc.states.filter((s) => s.runDir === started.runDir).pop()!.kind,
    'completed',
    JSON.stringify(rpc.states.at(-1)),
  );
  rpc.progress.length = 0;

  const result = await rpc.client.sendRequest(protocol.sample, {
    runDir: started.runDir,
    lightcone: 0,
    contextSlices: 2,
    slices: 3,
    seed: 1,
  });
  const written = rpc.samples.filter((s) => s.runDir === started.runDir);
  assert.equal(written.length, 3, 'one run/samples notification per generated slice');
  assert.deepEqual(written.at(-1)!.entry, result.entry);
  assert.deepEqual(
    rpc.progress.map((p) => [p.step, p.totalSteps, p.phase]),
    [
      [1, 3, 'sampling slice 1/3'],
      [2, 3, 'sampling slice 2/3'],
      [3, 3, 'sampling slice 3/3'],
    ],
  );
  assert.ok(existsSync(join(started.runDir, 'samples', result.entry.generated)));

  // Cancel as soon as the first slice of a longer request is written: the request fails and stops early.
  rpc.samples.length = 0;
  const source = new CancellationTokenSource();
  const cancelled = rpc.client.sendRequest(
    protocol.sample,
    { runDir: started.runDir, lightcone: 0, contextSlices: 2, slices: 8, seed: 2 },
    source.token,
  );
  const outcome = cancelled.then(
    () => 'resolved',
    () => 'rejected',
  );
  await rpc.until(() => rpc.samples.length >= 1);
  source.cancel();
  assert.equal(await outcome, 'rejected', 'a cancelled run/sample must not finish all 8 slices');
  assert.ok(rpc.samples.length < 8, `${rpc.samples.length} slices were written after cancellation`);

  const evaluated = await rpc.client.sendRequest(protocol.evaluate, { runDir: started.runDir });
  assert.equal(evaluated.resultFile, join(started.runDir, 'eval', 'next_patch.json'));
  const evaluation: unknown = JSON.parse(readFileSync(evaluated.resultFile, 'utf8'));
  assert.equal(typeof evaluation, 'object');
});
