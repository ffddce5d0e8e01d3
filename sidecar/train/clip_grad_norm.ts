// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (the reference clips each
// optimizer's parameters separately with max_grad_norm, docs/paper-mapping.md#training): all gradients are
// scaled by min(1, maxNorm / (‖g‖ + 1e-6)), where ‖g‖ is the L2 norm of all of them together.
import * as tf from '@tensorflow/tfjs';

export interface ClipResult {
  /** The clipped gradients (new tensors; the caller disposes them and the inputs). */
  gradients: Record<string, tf.Tensor>;
  /** The global norm before clipping; non-finite when a gradient holds NaN or ±inf. */
  norm: number;
}

// tf.addN is one kernel over all its inputs, and the webgpu backend binds each input as a storage buffer,
// of which a device allows only a few per shader stage (8 in WebGPU's compatibility mode): a model's
// forty gradients fail validation there. So the squares are summed in groups, each group adding to the
// running total. The additions keep one addN's order (the total plus each next term, left to right), so
// the norm on cpu and wasm is the same to the bit.
const addNInputs = 6;

function sumInOrder(tensors: readonly tf.Tensor[]): tf.Tensor {
  let total = tf.addN(tensors.slice(0, addNInputs));
  for (let i = addNInputs; i < tensors.length; i += addNInputs - 1)
    total = tf.addN([total, ...tensors.slice(i, i + addNInputs - 1)]);
  return total;
}

/** The L2 norm of all gradients together, read asynchronously (webgpu has no synchronous read under Node). */
export async function globalNorm(gradients: Readonly<Record<string, tf.Tensor>>): Promise<number> {
  const tensors = Object.values(gradients);
  if (tensors.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(sumInOrder(tensors.map((g) => tf.sum(tf.square(g))))));
  try {
    return (await norm.data())[0];
  } finally {
    norm.dispose();
  }
}

/**
 * Clips to `maxNorm` (≤ 0 disables clipping, as in the reference). The scale uses the same 1e-6 as
 * PyTorch, so a norm just below the limit leaves the gradients unchanged.
 */
export async function clipByGlobalNorm(
  gradients: Readonly<Record<string, tf.Tensor>>,
  maxNorm: number,
): Promise<ClipResult> {
  const norm = await globalNorm(gradients);
  const scale = maxNorm > 0 && Number.isFinite(norm) ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  const clipped: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(gradients))
    clipped[name] = scale === 1 ? g.clone() : tf.tidy(() => tf.mul(g, scale));
  return { gradients: clipped, norm };
}
