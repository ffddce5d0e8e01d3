// The connectors of both tasks (paper Sec. 3; reference regression/network/modeling.py), written for
// regression and reused by generation's patch, parameter and time-step connectors:
// - the input connector maps each scalar lightcone token to a vector of the backbone's width, one
//   shared map for every token: `linear` = nn.Linear(1, H); `mlp` = Linear(1,w) → [GELU, Linear(w,w)]×depth
//   → GELU → Linear(w, H) (reference lc_connector);
// - the output connector maps the hidden state at <|ska-param|> to the Gaussian head's raw outputs:
//   `linear` = Linear(H, out) (the paper's); with depth > 0: Linear(H,w), GELU, [Linear(w,w), GELU]×(depth−1),
//   Linear(w, out) (reference `head.cls = mlp`).
// Weights are in HF/PyTorch layout [out, in] and initialised like torch.nn.Linear:
// U(−1/sqrt(in), 1/sqrt(in)) for weight and bias (kaiming_uniform with a = sqrt(5)).
import * as tf from '@tensorflow/tfjs';

/** One affine map with named variables (checkpoint keys `<name>.weight`, `<name>.bias`). */
export class Dense {
  readonly weight: tf.Variable; // (out, in)
  readonly bias: tf.Variable; // (out)

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    seed: number,
  ) {
    if (!Number.isInteger(inFeatures) || inFeatures < 1 || !Number.isInteger(outFeatures) || outFeatures < 1) {
      throw new Error(
        `Dense layer "${name}": sizes must be positive integers, got in=${inFeatures}, out=${outFeatures}.`,
      );
    }
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = tf.tidy(() =>
      tf.variable(tf.randomUniform([outFeatures, inFeatures], -bound, bound, 'float32', seed), true),
    );
    this.bias = tf.tidy(() => tf.variable(tf.randomUniform([outFeatures], -bound, bound, 'float32', seed + 1), true));
  }

  /** x (..., in) → (..., out). */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.inFeatures === 1) {
        // A 1 → H map is an outer product; broadcasting avoids a matmul with an inner size of 1.
        return tf.add(tf.mul(x, tf.reshape(this.weight, [this.outFeatures])), this.bias); // (..., H)
      }
      const leading = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, this.inFeatures]); // (N, in)
      const y = tf.add(tf.matMul(flat, this.weight, false, true), this.bias); // (N, out)
      return tf.reshape(y, [...leading, this.outFeatures]);
    });
  }

  namedWeights(): [string, tf.Variable][] {
    return [
      [`${this.name}.weight`, this.weight],
      [`${this.name}.bias`, this.bias],
    ];
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)), as torch.nn.GELU() (TF.js core has no gelu op). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}

/** A stack of Dense layers with GELU between them (none after the last). */
export class Mlp {
  readonly layers: Dense[];

  constructor(
    readonly name: string,
    sizes: readonly number[],
    seed: number,
  ) {
    if (sizes.length < 2)
      throw new Error(`MLP "${name}" needs at least an input and an output size, got [${sizes.join(',')}].`);
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++)
      this.layers.push(new Dense(`${name}.${i}`, sizes[i], sizes[i + 1], seed + 7919 * i));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.apply(h);
        if (i + 1 < this.layers.length) h = gelu(h);
      });
      return h;
    });
  }

  namedWeights(): [string, tf.Variable][] {
    // A single layer keeps the plain `<name>.weight` keys of the paper's linear connector.
    if (this.layers.length === 1)
      return [
        [`${this.name}.weight`, this.layers[0].weight],
        [`${this.name}.bias`, this.layers[0].bias],
      ];
    return this.layers.flatMap((layer) => layer.namedWeights());
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

export interface ConnectorShape {
  kind: 'linear' | 'mlp';
  /** Hidden layers of width `width` (mlp only). */
  depth: number;
  width: number;
}

/** Input connector sizes: 1 → H, or 1 → w → (w)×depth → H (reference lc_connector `mlp`). */
export function inputConnectorSizes(shape: ConnectorShape, hidden: number): number[] {
  if (shape.kind === 'linear') return [1, hidden];
  return [1, ...new Array<number>(shape.depth + 1).fill(shape.width), hidden];
}

/** Output connector sizes: H → out, or H → w (→ w)×(depth−1) → out (reference head `mlp`). */
export function outputConnectorSizes(depth: number, width: number, hidden: number, outputs: number): number[] {
  if (depth === 0) return [hidden, outputs];
  return [hidden, ...new Array<number>(depth).fill(width), outputs];
}
