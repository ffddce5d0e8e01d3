// The velocity network of the CFM head (paper Sec. 5; reference generation/network/modeling.py
// `L3M_CFM_Head` with `cfm_connector.cls = "cnn"`, docs/paper-mapping.md#cfm): a small CNN on one p×p
// patch whose input channels are the condition image (cond_channels × p × p, from the output
// connector), the flow time τ broadcast over the patch, and the current state x_τ, in the reference's
// concatenation order [cond, τ, x]. Structure:
//   Conv k×k (cond+2 → C, bias)
//   [x + Conv1×1(SiLU(Conv k×k(SiLU(x))))] × blocks   (C → factor·C → C, no biases, as ResidualStackCNN)
//   SiLU, Conv k×k (C → 1, bias)
// "same" padding keeps the patch size. With C = 64, 6 blocks, k = 3 and 2 condition channels this is
// 494,465 parameters (velocity_cnn.test.ts checks the count). Tensors are NHWC (TF.js's native layout; the
// reference runs channels_last too); kernels are stored [k, k, in, out], TF.js's conv2d layout.
// Initialisation follows torch.nn.Conv2d: U(−1/√fan_in, 1/√fan_in) with fan_in = in·k·k.
// Convolutions are tf.conv2d. TF.js's wasm backend lacks Conv2DBackpropFilter, so on wasm the kernels of
// sidecar/model/ops/wasm_conv2d_gradients.ts are registered first (both gradients as XNNPACK convolutions;
// they replaced an im2col of pad + k² slices + concat + matMul whose backward was ~80% of a generation
// training step). A backend with neither falls back to that im2col, whose ops every backend differentiates.
import * as tf from '@tensorflow/tfjs';
import { registerWasmConvGradients } from '../../model/ops/wasm_conv2d_gradients';

export interface VelocityCnnOptions {
  patchSize: number;
  condChannels: number;
  channels: number;
  blocks: number;
  residualFactor: number;
  kernelSize: number;
  seed: number;
}

/** The paper's CNN: 64 channels, 6 residual blocks, factor 2, 3×3 kernels, 2 condition channels, 14×14 patches. */
export const paperVelocityCnn: Omit<VelocityCnnOptions, 'seed'> = {
  patchSize: 14,
  condChannels: 2,
  channels: 64,
  blocks: 6,
  residualFactor: 2,
  kernelSize: 3,
};

function kernel(name: string, k: number, inChannels: number, outChannels: number, seed: number): tf.Variable {
  const bound = 1 / Math.sqrt(inChannels * k * k);
  return tf.tidy(() =>
    tf.variable(tf.randomUniform([k, k, inChannels, outChannels], -bound, bound, 'float32', seed), true, name),
  );
}

function bias(name: string, fanIn: number, size: number, seed: number): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tidy(() => tf.variable(tf.randomUniform([size], -bound, bound, 'float32', seed), true, name));
}

let instances = 0;

export class VelocityCnn {
  readonly convIn: tf.Variable; // (k, k, cond+2, C)
  readonly convInBias: tf.Variable; // (C)
  readonly blockConv: tf.Variable[]; // (k, k, C, factor·C) each
  readonly blockProjection: tf.Variable[]; // (1, 1, factor·C, C) each
  readonly convOut: tf.Variable; // (k, k, C, 1)
  readonly convOutBias: tf.Variable; // (1)

  constructor(readonly options: VelocityCnnOptions) {
    const { patchSize, condChannels, channels, blocks, residualFactor, kernelSize, seed } = options;
    for (const [label, value, min] of [
      ['patch size', patchSize, 1],
      ['cond_channels', condChannels, 1],
      ['channels', channels, 1],
      ['blocks', blocks, 0],
      ['residual_factor', residualFactor, 1],
      ['kernel_size', kernelSize, 1],
    ] as const) {
      if (!Number.isInteger(value) || value < min)
        throw new Error(`Velocity CNN: ${label} must be an integer ≥ ${min}, got ${value}.`);
    }
    if (kernelSize % 2 === 0)
      throw new Error(
        `Velocity CNN: kernel_size must be odd so that "same" padding keeps the ${patchSize}×${patchSize} patch, got ${kernelSize}.`,
      );
    // Unique variable names per instance, so that two models (e.g. cached vs uncached tests) can coexist.
    const prefix = `cfm_head${instances++ === 0 ? '' : `_${instances}`}`;
    const inChannels = condChannels + 2;
    const wide = residualFactor * channels;
    this.convIn = kernel(`${prefix}.conv_in.weight`, kernelSize, inChannels, channels, seed);
    this.convInBias = bias(`${prefix}.conv_in.bias`, inChannels * kernelSize * kernelSize, channels, seed + 1);
    this.blockConv = [];
    this.blockProjection = [];
    for (let b = 0; b < blocks; b++) {
      this.blockConv.push(kernel(`${prefix}.blocks.${b}.conv.weight`, kernelSize, channels, wide, seed + 10 + 2 * b));
      this.blockProjection.push(kernel(`${prefix}.blocks.${b}.proj.weight`, 1, wide, channels, seed + 11 + 2 * b));
    }
    this.convOut = kernel(`${prefix}.conv_out.weight`, kernelSize, channels, 1, seed + 2);
    this.convOutBias = bias(`${prefix}.conv_out.bias`, channels * kernelSize * kernelSize, 1, seed + 3);
  }

  get patchSize(): number {
    return this.options.patchSize;
  }

  /**
   * The velocity v(x, τ | cond): x (M, p·p) flattened patches, τ a number or (M) per patch, cond
   * (M, condChannels·p·p) in the reference's channel-first order [channel, row, col]. Returns (M, p·p).
   */
  apply(x: tf.Tensor, tau: number | tf.Tensor, cond: tf.Tensor): tf.Tensor2D {
    const p = this.options.patchSize;
    const c = this.options.condChannels;
    const m = x.shape[0];
    if (x.rank !== 2 || x.shape[1] !== p * p)
      throw new Error(`Velocity CNN: x must be (patches, ${p * p}), got [${x.shape.join(',')}].`);
    if (cond.rank !== 2 || cond.shape[0] !== m || cond.shape[1] !== c * p * p) {
      throw new Error(
        `Velocity CNN: cond must be (${m}, ${c * p * p}) = (patches, cond_channels·p·p), got [${cond.shape.join(',')}].`,
      );
    }
    return tf.tidy(() => {
      // The channels are stacked channel-first, where each is one contiguous p×p block, and transposed to NHWC
      // once: a concat along the last axis (and its SplitV gradient) moves one float at a time on wasm.
      const tauColumn = typeof tau === 'number' ? tf.fill([m, 1], tau) : tf.reshape(tau, [m, 1]); // (M, 1)
      const tauImage = tf.mul(tf.ones([m, 1, p * p]), tf.reshape(tauColumn, [m, 1, 1])); // (M, 1, p·p)
      const channelsFirst = tf.concat([tf.reshape(cond, [m, c, p * p]), tauImage, tf.reshape(x, [m, 1, p * p])], 1); // (M, c+2, p·p)
      const input = tf.transpose(tf.reshape(channelsFirst, [m, c + 2, p, p]), [0, 2, 3, 1]); // (M, p, p, c+2)
      let h = tf.add(sameConv2d(input as tf.Tensor4D, this.convIn as tf.Tensor4D), this.convInBias); // (M, p, p, C)
      for (let b = 0; b < this.blockConv.length; b++) {
        const inner = sameConv2d(silu(h) as tf.Tensor4D, this.blockConv[b] as tf.Tensor4D); // (M, p, p, f·C)
        h = tf.add(h, sameConv2d(silu(inner) as tf.Tensor4D, this.blockProjection[b] as tf.Tensor4D)); // (M, p, p, C)
      }
      const out = tf.add(sameConv2d(silu(h) as tf.Tensor4D, this.convOut as tf.Tensor4D), this.convOutBias); // (M, p, p, 1)
      return tf.reshape<tf.Rank.R2>(out, [m, p * p]);
    });
  }

  namedWeights(): [string, tf.Variable][] {
    const named: [string, tf.Variable][] = [
      ['cfm_head.conv_in.weight', this.convIn],
      ['cfm_head.conv_in.bias', this.convInBias],
    ];
    this.blockConv.forEach((w, b) =>
      named.push(
        [`cfm_head.blocks.${b}.conv.weight`, w],
        [`cfm_head.blocks.${b}.proj.weight`, this.blockProjection[b]],
      ),
    );
    named.push(['cfm_head.conv_out.weight', this.convOut], ['cfm_head.conv_out.bias', this.convOutBias]);
    return named;
  }

  parameterCount(): number {
    return this.namedWeights().reduce((sum, [, v]) => sum + v.size, 0);
  }

  dispose(): void {
    for (const [, v] of this.namedWeights()) v.dispose();
  }
}

/** 'auto': tf.conv2d where the backend differentiates it, else im2col; 'im2col' always (for before/after measurements, bench/sample.ts). */
export type ConvolutionPath = 'auto' | 'im2col';
let convolutionPath: ConvolutionPath = 'auto';

export function setConvolutionPath(path: ConvolutionPath): void {
  convolutionPath = path;
}

/** Whether the active backend can differentiate tf.conv2d (on wasm, after registering the ops/ kernels). */
function backendHasConvGradients(): boolean {
  const backend = tf.getBackend();
  if (backend === 'wasm') registerWasmConvGradients();
  return (
    tf.getKernel('Conv2DBackpropFilter', backend) !== undefined &&
    tf.getKernel('Conv2DBackpropInput', backend) !== undefined
  );
}

/**
 * A stride-1 "same" convolution of x (M, H, W, Cin) with kernel (k, k, Cin, Cout), odd k, equal to
 * tf.conv2d(x, kernel, 1, 'same'); by im2col where the backend has no conv2d gradients (see header)
 * or when `useIm2col` asks for it (tests and A/B measurements).
 */
export function sameConv2d(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  useIm2col = convolutionPath === 'im2col' || !backendHasConvGradients(),
): tf.Tensor4D {
  if (!useIm2col) return tf.conv2d(x, kernel, 1, 'same');
  return tf.tidy(() => {
    const [m, height, width, inChannels] = x.shape;
    const [k, , , outChannels] = kernel.shape;
    const kernelMatrix = tf.reshape(kernel, [k * k * inChannels, outChannels]); // rows ordered (dy, dx, cin)
    if (k === 1)
      return tf.reshape<tf.Rank.R4>(tf.matMul(tf.reshape(x, [-1, inChannels]), kernelMatrix), [
        m,
        height,
        width,
        outChannels,
      ]);
    const half = (k - 1) / 2;
    const padded = tf.pad(x, [
      [0, 0],
      [half, half],
      [half, half],
      [0, 0],
    ]); // (M, H+k−1, W+k−1, Cin)
    const shifted: tf.Tensor[] = [];
    for (let dy = 0; dy < k; dy++)
      for (let dx = 0; dx < k; dx++) shifted.push(tf.slice(padded, [0, dy, dx, 0], [m, height, width, inChannels]));
    const columns = tf.reshape(tf.concat(shifted, 3), [-1, k * k * inChannels]); // (M·H·W, k²·Cin)
    return tf.reshape<tf.Rank.R4>(tf.matMul(columns, kernelMatrix), [m, height, width, outChannels]);
  });
}

/** SiLU(x) = x·sigmoid(x) (torch.nn.SiLU). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}
