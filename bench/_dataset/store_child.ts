// Child process of bench/dataset's paper-scale section: one dataset of .npz cones through the store, as
// training uses it, in a process of its own so that its peak RSS is the data path's alone.
//   1. conversion: openDataset converts the folder into its store (the .npz pages were evicted first);
//   2. generation: loadGenerationData twice, the first streaming the training cones for the sgn_log
//      statistics and the mean patch, the second reading them from the store; then training batches as
//      the training loop draws them (the next step's windows prefetched by the store's worker thread
//      before this step's batch is built), with no model between batches: the prefetch races the reads,
//      and whatever has not arrived is read by the main thread, so the rate is a lower bound of what a
//      training step, which gives the prefetch its whole duration, sees;
//   3. regression: openDataset and loadRegressionData (the stored global signal of every cone, read
//      once), then training batches as the regression task gathers them (tensors of the rows).
// Prints one JSON line: the figures and the process's peak RSS (the kernel's maxRSS), also as it stood
// after each phase.
import * as tf from '@tensorflow/tfjs';
import { openDataset } from '../../sidecar/data/dataset';
import { seededRandom } from '../../sidecar/data/splits';
import {
  loadGenerationData,
  prefetchTrainingWindows,
  trainingBatch,
} from '../../sidecar/tasks/generation/generation_data';
import { loadRegressionData } from '../../sidecar/tasks/regression/regression_data';
import { gatherRows } from '../../sidecar/tasks/regression/regression_task';
import { epochOrder } from '../../sidecar/train/seeded_random';
import { resolveConfig } from '../../schemas/resolve_config';

interface ChildInput {
  generationConfig: unknown;
  regressionConfig: unknown;
  configDir: string;
  generationBatches: number;
  regressionBatches: number;
}

const input = JSON.parse(process.argv[2]) as ChildInput;
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
/** The process's peak RSS so far in MB: read after each phase, it shows which phase set the peak. */
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Batch `step`'s indices of the training order, epoch after epoch, as the training loop takes them. */
function batchIndices(seed: number, size: number, batchSize: number): (step: number) => Int32Array {
  const orders = new Map<number, Int32Array>();
  const orderOf = (epoch: number) => {
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = epochOrder(seed, epoch, size)));
    return order;
  };
  return (step) =>
    Int32Array.from({ length: batchSize }, (_, b) => {
      const i = step * batchSize + b;
      return orderOf(Math.floor(i / size))[i % size];
    });
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const generation = resolveConfig(input.generationConfig);
  const regression = resolveConfig(input.regressionConfig);

  let start = process.hrtime.bigint();
  const opened = await openDataset(generation.data, { configDir: input.configDir });
  const conversionSeconds = seconds(start);
  const { manifest, cones } = opened.store;
  const storeFromCache = opened.storeFromCache;
  await opened.store.close();
  const peakAfterConversion = peakRssMb();

  start = process.hrtime.bigint();
  const first = await loadGenerationData(generation, input.configDir);
  const statisticsPassSeconds = seconds(start);
  await first.close?.();
  start = process.hrtime.bigint();
  const data = await loadGenerationData(generation, input.configDir);
  const statisticsStoredSeconds = seconds(start);
  const peakAfterStatistics = peakRssMb();

  const random = seededRandom(generation.training.seed);
  const generationIndices = batchIndices(
    generation.training.seed,
    data.trainWindows.length,
    generation.training.batch_size,
  );
  start = process.hrtime.bigint();
  for (let step = 0; step < input.generationBatches; step++) {
    prefetchTrainingWindows(data, generationIndices(step + 1));
    trainingBatch(data, generationIndices(step), generation.data.augmentation, random);
    // The training loop awaits each step, and the prefetched chunks arrive (as messages) only then; a
    // loop that never yields would leave them queued, unread and held, however many there are.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const generationSeconds = seconds(start);
  await data.close?.();
  const peakAfterGenerationBatches = peakRssMb();

  start = process.hrtime.bigint();
  const regressionOpened = await openDataset(regression.data, { configDir: input.configDir });
  const { data: regressionData } = await loadRegressionData(regression, regressionOpened);
  const regressionLoadSeconds = seconds(start);
  await regressionOpened.store.close();
  const regressionIndices = batchIndices(
    regression.training.seed,
    regressionData.train.ids.length,
    regression.training.batch_size,
  );
  start = process.hrtime.bigint();
  for (let step = 0; step < input.regressionBatches; step++) {
    const batch = gatherRows(regressionData.train, regressionData.tokenCount, regressionIndices(step));
    tf.dispose([batch.tokens, batch.targets]);
  }
  const regressionSeconds = seconds(start);

  console.log(
    JSON.stringify({
      cones: cones.length,
      storeFromCache,
      storeBytes: manifest.bytes,
      conversionSeconds,
      statisticsPassSeconds,
      statisticsStoredSeconds,
      trainWindows: data.trainWindows.length,
      cacheMb: data.cacheMb,
      generationBatchesPerSecond: input.generationBatches / generationSeconds,
      regressionLoadSeconds,
      regressionBatchesPerSecond: input.regressionBatches / regressionSeconds,
      peakRssMb: peakRssMb(),
      peakRssMbAfter: {
        conversion: peakAfterConversion,
        statistics: peakAfterStatistics,
        generationBatches: peakAfterGenerationBatches,
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
