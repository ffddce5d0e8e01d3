// What a data-parallel worker trains: a module that exports `createReplica(options)` returning the trainable
// variables and a loss over one shard. Every worker calls it with the same options, so the replicas start
// identical (seeded init) and stay identical (they apply the same averaged gradients in the same order).
import type * as tf from '@tensorflow/tfjs';

/** One shard of a batch: flat float32 inputs and targets with their shapes (the batch axis first). */
export interface Shard {
  input: Float32Array;
  inputShape: number[];
  target: Float32Array;
  targetShape: number[];
}

export interface Replica {
  /** The trainable variables, in a fixed order (the gradient exchange flattens them in this order). */
  variables: tf.Variable[];
  /** Loss of this replica on one shard; the mean over equal shards must be the loss of the whole batch. */
  loss: (shard: Shard) => tf.Scalar;
  dispose: () => void;
}

/** The export a replica module must have. */
export type CreateReplica = (options: unknown) => Replica;
