// Lists the tensors TF.js keeps for the backward pass of one generation training step of a config (the tape's
// saved tensors, each buffer once, weights left out) with their total in floats beside the memory estimate's
// count (schemas/memory_estimate.ts), which was derived from such listings. A tool for when the model changes:
//   node --import tsx bench/_paper_scale/tape_probe.ts '<config JSON>'
import * as tf from '@tensorflow/tfjs';
import { resolveConfig } from '../../schemas/resolve_config';
import { backboneShape } from '../../schemas/backbone_shape';
import { estimateParameters } from '../../schemas/config_estimates';
import { estimateTrainingMemory } from '../../schemas/memory_estimate';
import { sliceCells } from '../../schemas/semantic_checks';
import { buildGenerationModel } from '../../sidecar/tasks/generation/generation_setup';
import { selectRuntime } from '../../sidecar/jobs/select_runtime';

interface TapeNode {
  kernelName: string;
  saved?: tf.Tensor[];
}

async function main(): Promise<void> {
  const config = resolveConfig(JSON.parse(process.argv[2]) as Record<string, unknown>);
  await selectRuntime({ ...config.runtime, backend: 'wasm' });
  const shape = backboneShape(config)!;
  const estimate = estimateTrainingMemory(config, shape, estimateParameters(config, shape))!;
  const grid = sliceCells(config)!.cells / config.data.patch_size;
  const { model } = buildGenerationModel(config, undefined, process.cwd(), { rows: grid, cols: grid });
  const batch = config.training.batch_size;
  const inputs = {
    patches: tf.randomNormal<tf.Rank.R4>([
      batch,
      config.data.sublightcone.length,
      grid * grid,
      config.data.patch_size ** 2,
    ]),
    params: tf.randomUniform<tf.Rank.R2>([batch, 6]),
    timeSteps: tf.zeros<tf.Rank.R1>([batch]),
  };
  const variables = model.namedTrainableWeights().map(([, v]) => v);
  const weights = new Set<unknown>(model.backbone.namedWeights().map(([, v]) => v.dataId));
  for (const v of variables) weights.add(v.dataId);
  const { value, grads } = tf.variableGrads(() => {
    const loss = model.loss(inputs, config.data.sublightcone.context, 1, { training: true, dropoutSeed: 1 });
    // The engine's tape is internal to TF.js: read, never changed.
    const tape = (tf.engine() as unknown as { state: { activeTape: TapeNode[] } }).state.activeTape;
    const seen = new Map<unknown, string>();
    let total = 0;
    for (const node of tape) {
      for (const t of node.saved ?? []) {
        if (weights.has(t.dataId) || seen.has(t.dataId)) continue;
        seen.set(t.dataId, `${node.kernelName} [${t.shape.join(',')}] ${t.size}`);
        total += t.size;
      }
    }
    for (const line of seen.values()) console.log(line);
    console.log(`saved floats ${total}; the estimate counts ${estimate.activationBytes / 4}`);
    return loss;
  }, variables);
  tf.dispose([value, ...Object.values(grads)]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
