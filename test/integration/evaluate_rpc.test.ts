// run/evaluate through the real server and engines over in-memory streams: a tiny regression run is
// trained with run/start, then run/evaluate re-runs the test evaluation on its best checkpoint and
// must reproduce the file training wrote (same checkpoint, same seed); a folder that is not a run is
// refused with a message naming its config.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import { recordingClient } from './in_memory_server';
import { writeTinyWorkspace } from './train_fixture';
import type { RegressionEvaluationFile } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';

test("run/evaluate re-runs a regression run's test evaluation on its best checkpoint", async (t) => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-evaluate-'));
  const runsDir = join(workspace, 'runs');
  const rpc = recordingClient();
  t.after(() => {
    rpc.close();
    rmSync(workspace, { recursive: true, force: true });
  });
  await rpc.client.sendRequest(protocol.initialize, {
    clientName: 'evaluate test',
    protocolVersion: protocol.protocolVersion,
    runsDir,
  });
  const configPath = writeTinyWorkspace(
    workspace,
    { training: { steps: 20, checkpoint_every: 10 }, evaluation: { every: 10 } },
    { lightcones: 20, slices: 32 },
  );
  const started = await rpc.client.sendRequest(protocol.startRun, { configPath, runsDir });
  await rpc.until(() =>
    rpc.states.some((s) => s.runDir === started.runDir && (s.kind === 'completed' || s.kind === 'failed')),
  );
  assert.equal(
    rpc.states.filter((s) => s.runDir === started.runDir).pop()!.kind,
    'completed',
    JSON.stringify(rpc.states),
  );

  const trainedFile = join(started.runDir, 'eval', 'regression.json');
  const trained = readFileSync(trainedFile, 'utf8');
  const writtenBefore = statSync(trainedFile).mtimeMs;
  const result = await rpc.client.sendRequest(protocol.evaluate, { runDir: started.runDir });
  assert.equal(result.resultFile, trainedFile);
  assert.ok(statSync(trainedFile).mtimeMs >= writtenBefore);
  const evaluated = readJson<RegressionEvaluationFile>(result.resultFile);
  assert.deepEqual(
    evaluated,
    JSON.parse(trained),
    'the re-run evaluation differs from the one written at the end of training',
  );
  assert.equal(evaluated.parameters.length, 6);

  await assert.rejects(rpc.client.sendRequest(protocol.evaluate, { runDir: workspace }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.match(e.message, /config\.json/);
    return true;
  });
});
