// The worker side of the data-parallel pool (./gradient_pool.ts): a worker entry builds its task (the same
// one the training thread trains, from the same setup) and hands it to serveGradients, which answers the
// pool's requests: read the weights that changed, compute the gradients of this worker's rows with the same
// code the training thread uses (../phase_gradients.ts), write them to shared memory, report the losses.
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { phaseGradients } from '../phase_gradients';
import type { TrainingTask } from '../training_task';
import { isWorkerData, reportedError, type FromWorker, type GradientsRequest } from './messages';

/** The entry's own setup (workerData.job), for the entry to check and use. */
export function workerJob(): unknown {
  return isWorkerData(workerData) ? workerData.job : undefined;
}

/** Builds the task with `build`, then answers gradient requests until the pool ends the thread. */
export function serveGradients(build: () => Promise<TrainingTask<unknown>>): void {
  const port = parentPort;
  if (port === null || !isWorkerData(workerData)) {
    throw new Error(
      "Data-parallel worker: started without the pool's workerData; this module runs only in a worker thread that GradientPool starts.",
    );
  }
  const { weights: weightBuffer, gradients: gradientBuffer, fence: fenceBuffer } = workerData.exchange;
  const post = (message: FromWorker) => port.postMessage(message);
  const fence = new Int32Array(fenceBuffer);
  const weights = new Float32Array(weightBuffer);
  const gradients = new Float32Array(gradientBuffer);
  void build().then(
    (task) => {
      const named = task.namedWeights();
      const offsets: number[] = [];
      let offset = 0;
      for (const [, variable] of named) {
        offsets.push(offset);
        offset += variable.size;
      }
      const answer = async (request: GradientsRequest): Promise<FromWorker> => {
        Atomics.load(fence, 0);
        for (const index of request.refresh) {
          const variable = named[index][1];
          tf.tidy(() =>
            variable.assign(
              tf.tensor(weights.subarray(offsets[index], offsets[index] + variable.size), variable.shape),
            ),
          );
        }
        const variables = request.variables.map((index) => named[index][1]);
        const { losses, grads } = await phaseGradients(
          task,
          task.phases[request.phase],
          variables,
          request.microBatches,
        );
        const missing: number[] = [];
        let at = 0;
        try {
          for (const [v, index] of request.variables.entries()) {
            const grad = grads[variables[v].name];
            if (grad === undefined) missing.push(index);
            else gradients.set(await grad.data(), at);
            at += variables[v].size;
          }
        } finally {
          tf.dispose(Object.values(grads));
        }
        Atomics.add(fence, 0, 1);
        return { type: 'gradients', losses, missing };
      };
      // The pool sends the next request only after this one's reply, so two answers never overlap.
      port.on('message', (request: GradientsRequest) => {
        answer(request).then(post, (error: unknown) => post({ type: 'error', message: reportedError(error) }));
      });
      post({ type: 'ready', weights: named.map(([key, v]) => ({ key, size: v.size })), trainSize: task.trainSize });
    },
    (error: unknown) => post({ type: 'error', message: `could not build its task: ${reportedError(error)}` }),
  );
}
