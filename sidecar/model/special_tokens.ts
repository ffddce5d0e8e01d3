// Trainable special-token embeddings (prompt tuning, paper Sec. 3): named vectors of width H that replace the
// embedding rows of their tokens in the input sequence. The reference's `TokenEmbd` is an nn.Parameter of
// shape [1, hidden] initialised with normal_ (std 1) (docs/paper-mapping.md#finetuning), and so is each vector here.
import * as tf from '@tensorflow/tfjs';
import { SeedStream } from './init';

export class SpecialTokens {
  private readonly vectors = new Map<string, tf.Variable>();

  constructor(
    readonly hiddenSize: number,
    names: readonly string[],
    seed = 0,
    std = 1,
  ) {
    const seeds = new SeedStream(seed);
    for (const name of names) {
      if (this.vectors.has(name))
        throw new Error(`SpecialTokens: the name "${name}" is given twice; names must be unique.`);
      const initial = tf.randomNormal([hiddenSize], 0, std, 'float32', seeds.next());
      this.vectors.set(name, tf.variable(initial, true));
      initial.dispose();
    }
  }

  get names(): string[] {
    return [...this.vectors.keys()];
  }

  /** The trainable vector (H) of `name`. */
  get(name: string): tf.Variable {
    const vector = this.vectors.get(name);
    if (!vector)
      throw new Error(`SpecialTokens: no token named "${name}"; known: ${this.names.join(', ') || '(none)'}.`);
    return vector;
  }

  /** The vectors of `names`, stacked (N, H), differentiable with respect to each. */
  stack(names: readonly string[]): tf.Tensor2D {
    return tf.tidy(() => tf.stack(names.map((name) => this.get(name))) as tf.Tensor2D);
  }

  /** Checkpoint keys `special_tokens.<name>`. */
  namedWeights(): [string, tf.Variable][] {
    return [...this.vectors].map(([name, v]) => [`special_tokens.${name}`, v]);
  }

  dispose(): void {
    for (const v of this.vectors.values()) v.dispose();
    this.vectors.clear();
  }
}
