// One child process of bench/paper_scale's memory check: builds the generation model of a config (random
// weights) on the wasm backend, trains it two Adam steps on a random batch of the config's shapes, and prints
// one JSON line with its peak resident memory beside the estimate (schemas/memory_estimate.ts) less the data
// cache, which this process does not fill.
//   node --import tsx bench/_paper_scale/memory_probe.ts '<config JSON>'
import * as tf from '@tensorflow/tfjs';
import { resolveConfig } from '../../schemas/resolve_config';
import { backboneShape } from '../../schemas/backbone_shape';
import { estimateParameters } from '../../schemas/config_estimates';
import { estimateTrainingMemory } from '../../schemas/memory_estimate';
import { sliceCells } from '../../schemas/semantic_checks';
import { buildGenerationModel } from '../../sidecar/tasks/generation/generation_setup';
import { selectRuntime } from '../../sidecar/jobs/select_runtime';

async function main(): Promise<void> {
  const config = resolveConfig(JSON.parse(process.argv[2]) as Record<string, unknown>);
  await selectRuntime({ ...config.runtime, backend: 'wasm' });
  const shape = backboneShape(config)!;
  const estimate = estimateTrainingMemory(config, shape, estimateParameters(config, shape))!;
  const grid = sliceCells(config)!.cells / config.data.patch_size;
  const { model } = buildGenerationModel(config, undefined, process.cwd(), { rows: grid, cols: grid });
  const batch = config.training.batch_size;
  const window = config.data.sublightcone.length;
  const inputs = {
    patches: tf.randomNormal<tf.Rank.R4>([batch, window, grid * grid, config.data.patch_size ** 2], 0, 1, 'float32', 1),
    params: tf.randomUniform<tf.Rank.R2>([batch, 6], 0, 1, 'float32', 2),
    timeSteps: tf.zeros<tf.Rank.R1>([batch]),
  };
  const variables = model.namedTrainableWeights().map(([, v]) => v);
  const optimizer = tf.train.adam(1e-4);
  const start = performance.now();
  for (let step = 0; step < 2; step++) {
    const { value, grads } = tf.variableGrads(
      () => model.loss(inputs, config.data.sublightcone.context, step, { training: true, dropoutSeed: step }),
      variables,
    );
    optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  console.log(
    JSON.stringify({
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      estimateBytes: estimate.totalBytes - estimate.dataBytes,
      tensorEstimateBytes: estimate.tensorBytes,
      sequenceLength: estimate.sequenceLength,
      stepSeconds: (performance.now() - start) / 2000,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
