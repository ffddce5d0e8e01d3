// Deterministic weight initialisers. Random backbones (`source: random`, the paper's reference networks)
// follow HF `Qwen2PreTrainedModel._init_weights`: linear and embedding weights ~ N(0, initializer_range²),
// biases zero, norm scales one. LoRA's A follows peft (`kaiming_uniform_(a=sqrt(5))`).
import * as tf from '@tensorflow/tfjs';

/** A seed stream so that every tensor of a model gets its own, reproducible seed. */
export class SeedStream {
  private counter = 0;
  constructor(private readonly seed: number) {}
  next(): number {
    this.counter += 1;
    // Large odd multiplier keeps consecutive streams for nearby seeds apart.
    return (this.seed * 1000003 + this.counter * 7919) % 2147483647;
  }
}

/** Normal(0, std²) of the given shape (HF linear/embedding init). */
export function normalInit(shape: number[], std: number, seeds: SeedStream): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', seeds.next());
}

/**
 * Uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)): torch's kaiming_uniform_ with a = sqrt(5), which peft uses for
 * lora_A (gain sqrt(2/(1+a²)) = sqrt(1/3), bound = gain·sqrt(3/fanIn) = 1/sqrt(fanIn)).
 */
export function kaimingUniformInit(shape: [number, number], seeds: SeedStream): tf.Tensor {
  const bound = 1 / Math.sqrt(shape[1]);
  return tf.randomUniform(shape, -bound, bound, 'float32', seeds.next());
}
