// The regression training-step shapes that bench/train_step times on the CPU and bench/gpu_check on each GPU backend
// (the same ids, so figures of both compare), and the matrix-product FLOPs of one training step of a Qwen2 backbone.
import { qwen2Config, type Qwen2Config } from '../../sidecar/model/qwen2_config';

export interface RegressionShape {
  id: string;
  label: string;
  config: Qwen2Config;
  batch: number;
  length: number;
}

/** A random-weight Qwen2 backbone as the benches build them (inputs enter as vectors; 16 tokens are never read). */
export function benchBackbone(
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  mlp: number,
  causal: boolean,
): Qwen2Config {
  return qwen2Config({
    vocabSize: 16,
    hiddenSize: hidden,
    numHiddenLayers: layers,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    intermediateSize: mlp,
    causal,
    tieWordEmbeddings: true,
    ropeTheta: 1e6,
  });
}

/** (a) the paper's large regression reference net, (b) mid-size, (c) small causal. */
export const regressionShapes: RegressionShape[] = [
  {
    id: 'a',
    label: 'paper large reference net: H128 L6 4/4h MLP256 T48 B64 non-causal',
    config: benchBackbone(128, 6, 4, 4, 256, false),
    batch: 64,
    length: 48,
  },
  {
    id: 'b',
    label: 'mid-size: H256 L6 4/2h MLP256 T256 B8 causal',
    config: benchBackbone(256, 6, 4, 2, 256, true),
    batch: 8,
    length: 256,
  },
  {
    id: 'c',
    label: 'small causal: H128 L4 4/2h MLP256 T64 B32 causal',
    config: benchBackbone(128, 4, 4, 2, 256, true),
    batch: 32,
    length: 64,
  },
];

/**
 * Matrix-product FLOPs of one training step of the backbone: forward = 2·N·(H·nH·d + 2·H·nKv·d + nH·d·H + 3·H·I) per
 * block for the projections and MLP (N = batch·length tokens) plus 2·2·batch·nH·length²·d for q·kᵀ and p·v; a
 * training step is 3 × forward (backward computes the input and weight gradient of every product).
 */
export function backboneStepFlops(config: Qwen2Config, batch: number, length: number): number {
  const d = config.hiddenSize / config.numAttentionHeads;
  const tokens = batch * length;
  const projections =
    2 *
    tokens *
    (config.hiddenSize * config.numAttentionHeads * d +
      2 * config.hiddenSize * config.numKeyValueHeads * d +
      config.numAttentionHeads * d * config.hiddenSize +
      3 * config.hiddenSize * config.intermediateSize);
  const attention = 2 * 2 * batch * config.numAttentionHeads * length * length * d;
  return 3 * config.numHiddenLayers * (projections + attention);
}
