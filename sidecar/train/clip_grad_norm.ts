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

/** The L2 norm of all gradients together, read asynchronously (webgpu has no synchronous read under Node). */
export async function globalNorm(gradients: Readonly<Record<string, tf.Tensor>>): Promise<number> {
  const tensors = Object.values(gradients);
  if (tensors.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(g))))));
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
