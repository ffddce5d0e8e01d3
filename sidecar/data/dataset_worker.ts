// Worker-thread entry of dataset generation: simulates one lightcone per request, applies the
// acceptance cut, and writes accepted cones straight into the dataset folder (so voxels never
// cross threads). Runs as dist/dataset_worker.js in the bundle and as this .ts file under tsx in
// development and tests (simulated_dataset.ts picks the right one).
import { parentPort } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNpy } from './npy';
import type { AstroParams } from './parameters';
import { isAccepted, simulateLightcone, type SimulatorSize } from './simulator';

export interface WorkerRequest {
  drawIndex: number;
  params: AstroParams;
  size: SimulatorSize;
  simulationSeed: number;
  folder: string;
  id: string;
}

export type WorkerMessage =
  | { kind: 'progress'; drawIndex: number; fraction: number; phase: string }
  | {
      kind: 'done';
      drawIndex: number;
      accepted: boolean;
      reason?: string;
      tau: number;
      shape: [number, number, number];
      history: { z: number[]; xHI: number[]; meanTb: number[] };
    }
  | { kind: 'error'; drawIndex: number; message: string };

async function handle(request: WorkerRequest): Promise<WorkerMessage> {
  const port = parentPort!;
  const cone = await simulateLightcone(request.params, {
    size: request.size,
    seed: request.simulationSeed,
    onProgress: (fraction, phase) =>
      port.postMessage({ kind: 'progress', drawIndex: request.drawIndex, fraction, phase } satisfies WorkerMessage),
  });
  const verdict = isAccepted(cone);
  if (verdict.ok) {
    // Same layout as every file format: [x, y, t] with t from low z; the JSON is npy_source's.
    await writeFile(join(request.folder, `${request.id}.npy`), writeNpy(cone.brightness, cone.shape));
    await writeFile(
      join(request.folder, `${request.id}.json`),
      JSON.stringify({
        ...cone.params,
        redshifts: Array.from(cone.redshifts),
        tau: cone.tau,
        drawIndex: request.drawIndex,
        simulationSeed: request.simulationSeed,
        history: {
          z: Array.from(cone.history.z),
          xHI: Array.from(cone.history.xHI),
          meanTb: Array.from(cone.history.meanTb),
        },
      }),
    );
  }
  return {
    kind: 'done',
    drawIndex: request.drawIndex,
    accepted: verdict.ok,
    reason: verdict.reason,
    tau: cone.tau,
    shape: cone.shape,
    history: {
      z: Array.from(cone.history.z),
      xHI: Array.from(cone.history.xHI),
      meanTb: Array.from(cone.history.meanTb),
    },
  };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: WorkerRequest) => {
    handle(request).then(
      (message) => port.postMessage(message),
      (error: unknown) =>
        port.postMessage({
          kind: 'error',
          drawIndex: request.drawIndex,
          message: error instanceof Error ? error.message : String(error),
        } satisfies WorkerMessage),
    );
  });
}
