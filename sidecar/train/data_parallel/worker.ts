// A data-parallel worker: its own TF.js wasm backend and model replica. Each step it computes the gradients of
// its shard, writes them into its slot of a SharedArrayBuffer, waits at a barrier for the other workers, sums the
// slots (the same order in every worker, so every replica gets bit-identical gradients), and applies Adam.
// Why worker threads: the wasm backend's own thread pool is hard-wired off under Node (tfjs-backend-wasm 4.22),
// so one process uses one core; N workers each running a 1/N shard use N.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../../runtime/backends';
import { overrideWasmBatchMatMul } from '../../model/ops/wasm_fast_matmul';
import { overrideWasmCopies } from '../../model/ops/wasm_zero_copy';
import type { CreateReplica } from './replica';
import type { ToWorker, FromWorker, WorkerSetup } from './messages';

const setup = checkedSetup(workerData);

/** workerData as the trainer builds it; anything else means the file was started some other way. */
function checkedSetup(value: unknown): WorkerSetup {
  if (!isWorkerSetup(value)) {
    throw new Error(
      'data-parallel worker: workerData is not a worker setup {rank, workers, backend, replicaModule, learningRate, ' +
        'gradients, sync}; this file runs only as a worker started by DataParallelTrainer.',
    );
  }
  return value;
}

function isWorkerSetup(value: unknown): value is WorkerSetup {
  if (typeof value !== 'object' || value === null) return false;
  const field = (key: keyof WorkerSetup): unknown => Reflect.get(value, key);
  return (
    typeof field('rank') === 'number' &&
    typeof field('workers') === 'number' &&
    (field('backend') === 'wasm' || field('backend') === 'cpu') &&
    typeof field('replicaModule') === 'string' &&
    typeof field('learningRate') === 'number' &&
    field('gradients') instanceof SharedArrayBuffer &&
    field('sync') instanceof SharedArrayBuffer
  );
}

function exportsCreateReplica(value: unknown): value is { createReplica: CreateReplica } {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'createReplica') === 'function';
}
const sync = new Int32Array(setup.sync); // [arrived, generation]

/** Blocks until every worker has arrived (a generation-counting barrier on Atomics). */
function barrier(): void {
  const generation = Atomics.load(sync, 1);
  if (Atomics.add(sync, 0, 1) === setup.workers - 1) {
    Atomics.store(sync, 0, 0);
    Atomics.add(sync, 1, 1);
    Atomics.notify(sync, 1);
  } else {
    while (Atomics.load(sync, 1) === generation) Atomics.wait(sync, 1, generation);
  }
}

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

async function main(): Promise<void> {
  await selectBackend(setup.backend);
  if (setup.backend === 'wasm') {
    overrideWasmBatchMatMul('xnn');
    overrideWasmCopies();
  }
  // A .ts replica (development, under tsx's require hook) is required; a built .js one is imported.
  const module: unknown = setup.replicaModule.endsWith('.ts')
    ? createRequire(path.join(process.cwd(), 'worker-require.js'))(setup.replicaModule)
    : await import(pathToFileURL(setup.replicaModule).href);
  if (!exportsCreateReplica(module)) {
    throw new Error(`data-parallel worker: ${setup.replicaModule} does not export createReplica(options).`);
  }
  const replica = module.createReplica(setup.replicaOptions);
  const sizes = replica.variables.map((v) => v.size);
  const parameterCount = sizes.reduce((p, q) => p + q, 0);
  const gradients = new Float32Array(setup.gradients);
  if (gradients.length !== setup.workers * parameterCount) {
    throw new Error(
      `data-parallel worker: the gradient buffer holds ${gradients.length} floats, expected ` +
        `${setup.workers} workers × ${parameterCount} parameters; give parameterCount = ${parameterCount}.`,
    );
  }
  const optimizer = tf.train.adam(setup.learningRate);
  const sum = new Float32Array(parameterCount);

  parentPort!.on('message', (message: ToWorker) => {
    try {
      if (message.type === 'step') {
        const { value, grads } = tf.variableGrads(() => replica.loss(message.shard), replica.variables);
        const loss = value.dataSync()[0];
        let offset = setup.rank * parameterCount;
        for (const v of replica.variables) {
          gradients.set(grads[v.name].dataSync(), offset);
          offset += v.size;
        }
        tf.dispose([value, ...Object.values(grads)]);
        barrier();
        sum.fill(0);
        for (let w = 0; w < setup.workers; w++) {
          const slot = gradients.subarray(w * parameterCount, (w + 1) * parameterCount);
          for (let i = 0; i < parameterCount; i++) sum[i] += slot[i];
        }
        const scale = 1 / setup.workers;
        const averaged: { name: string; tensor: tf.Tensor }[] = [];
        offset = 0;
        replica.variables.forEach((v, i) => {
          const tensor = tf.tidy(() => tf.mul(tf.tensor(sum.subarray(offset, offset + sizes[i]), v.shape), scale));
          averaged.push({ name: v.name, tensor });
          offset += sizes[i];
        });
        optimizer.applyGradients(averaged);
        tf.dispose(averaged.map((g) => g.tensor));
        // Nobody may overwrite its slot with the next step's gradients before every worker has summed this one.
        barrier();
        post({ type: 'stepped', loss });
      } else if (message.type === 'weights') {
        const flat = new Float32Array(parameterCount);
        let offset = 0;
        for (const v of replica.variables) {
          flat.set(v.dataSync(), offset);
          offset += v.size;
        }
        post({ type: 'weights', weights: flat });
      } else if (message.type === 'close') {
        optimizer.dispose();
        replica.dispose();
        process.exit(0);
      }
    } catch (error) {
      post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  post({ type: 'ready', parameterCount });
}

main().catch((error: unknown) =>
  post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
