// A data-parallel worker of bench/train_step's `l3m train` row: the wasm backend with the kernels `l3m train`
// selects, and the bench's task built from the options the training thread passes.
import { selectRuntime } from '../../sidecar/jobs/select_runtime';
import { serveGradients, workerJob } from '../../sidecar/train/data_parallel/gradient_worker';
import { qwen2MseTask, type Qwen2MseOptions } from './qwen2_mse';

serveGradients(async () => {
  await selectRuntime('wasm', '');
  return qwen2MseTask(workerJob() as Qwen2MseOptions).task;
});
