// The regression task plugged into the training engine: batches of (tokens, normalised parameters),
// the update phases (interleaved: connector + special tokens + any trained backbone weights, then the
// head on the detached backbone output; or everything jointly for the reference networks), validation
// (the training loss, the full NLL and the mean absolute error per parameter) and predictions for the
// final test evaluation.
import * as tf from '@tensorflow/tfjs';
import { parameterNames } from '../../data/parameters';
import { batchShapes } from '../../runtime/gpu_memory_errors';
import {
  dropoutSeedOf,
  shardIndices,
  type StepContext,
  type TrainingTask,
  type UpdatePhase,
  type ValidationResult,
} from '../../train/training_task';
import { paramCount } from './gaussian_head';
import type { RegressionModel, RegressionLrRatios } from './regression_model';
import type { RegressionPredictions } from './regression_evaluation';

/** One split as plain arrays: tokens (count, tokenCount), targets (count, 6) normalised to [0, 1]. */
export interface RegressionSplit {
  ids: string[];
  tokens: Float32Array;
  targets: Float32Array;
}

export interface RegressionData {
  tokenCount: number;
  train: RegressionSplit;
  validation: RegressionSplit;
  test: RegressionSplit;
}

export interface RegressionBatchTensors {
  tokens: tf.Tensor2D; // (B, N)
  targets: tf.Tensor2D; // (B, 6)
}

export interface RegressionTaskOptions {
  interleaved: boolean;
  lrRatios: RegressionLrRatios;
  weightDecay: number;
  evalBatchSize: number;
}

export function splitSize(split: RegressionSplit): number {
  return split.ids.length;
}

/** Tensors for rows `indices` of a split. */
export function gatherRows(
  split: RegressionSplit,
  tokenCount: number,
  indices: ArrayLike<number>,
): RegressionBatchTensors {
  const count = indices.length;
  const tokens = new Float32Array(count * tokenCount);
  const targets = new Float32Array(count * paramCount);
  for (let b = 0; b < count; b++) {
    const row = indices[b];
    if (!(row >= 0 && row < splitSize(split))) {
      throw new Error(
        `Regression batch: row ${row} is outside the split's ${splitSize(split)} lightcones; the batch order was made for other data.`,
      );
    }
    tokens.set(split.tokens.subarray(row * tokenCount, (row + 1) * tokenCount), b * tokenCount);
    targets.set(split.targets.subarray(row * paramCount, (row + 1) * paramCount), b * paramCount);
  }
  return { tokens: tf.tensor2d(tokens, [count, tokenCount]), targets: tf.tensor2d(targets, [count, paramCount]) };
}

export class RegressionTask implements TrainingTask<RegressionBatchTensors> {
  readonly trainSize: number;
  readonly phases: UpdatePhase<RegressionBatchTensors>[];

  constructor(
    readonly model: RegressionModel,
    readonly data: RegressionData,
    readonly options: RegressionTaskOptions,
  ) {
    this.trainSize = splitSize(data.train);
    const groups = model.parameterGroups(options.lrRatios, options.weightDecay);
    const loss = (batch: RegressionBatchTensors, context: StepContext) =>
      model.loss(batch.tokens, batch.targets, { training: true, dropoutSeed: dropoutSeedOf(context) });
    if (options.interleaved) {
      // The reference (docs/paper-mapping.md#regression): optimizer 0 = lc connector + special tokens (+
      // backbone weights when they train), optimizer 1 = head only, on a second forward pass whose backbone
      // output is detached. Taking gradients only with respect to the head variables is that detachment:
      // nothing flows further back.
      this.phases = [
        { name: 'connector', groups: groups.filter((g) => g.name !== 'head'), loss },
        { name: 'head', groups: groups.filter((g) => g.name === 'head'), loss },
      ];
    } else {
      this.phases = [{ name: 'all', groups, loss }];
    }
  }

  batch(indices: Int32Array, context?: StepContext): RegressionBatchTensors {
    return gatherRows(this.data.train, this.data.tokenCount, context ? shardIndices(indices, context) : indices);
  }

  disposeBatch(batch: RegressionBatchTensors): void {
    tf.dispose([batch.tokens, batch.targets]);
  }

  namedWeights(): [string, tf.Variable][] {
    return this.model.namedTrainableWeights();
  }

  async validate(): Promise<ValidationResult> {
    const predictions = await this.predict(this.data.validation);
    const n = predictions.ids.length;
    if (n === 0) return { loss: NaN, metrics: {} };
    let nll = 0;
    for (let i = 0; i < n; i++) nll += predictions.nll[i] / n;
    const metrics: Record<string, number> = { nll };
    parameterNames.forEach((name, p) => {
      let l1 = 0;
      for (let i = 0; i < n; i++)
        l1 += Math.abs(predictions.mean[i * paramCount + p] - predictions.truth[i * paramCount + p]) / n;
      metrics[`l1_${name}`] = l1;
    });
    // The validation loss in the training loss's convention: (full NLL − (d/2)·log 2π) / d.
    return {
      loss: (nll - 0.5 * paramCount * Math.log(2 * Math.PI)) / paramCount,
      metrics,
      batch: predictions.batch,
    };
  }

  /** Mean, precision factor and NLL of every lightcone of a split, in evaluation batches. */
  async predict(split: RegressionSplit): Promise<RegressionPredictions> {
    const n = splitSize(split);
    const d = paramCount;
    const mean = new Float32Array(n * d);
    const cholesky = new Float32Array(n * d * d);
    const nll = new Float32Array(n);
    const size = Math.max(1, this.options.evalBatchSize);
    let first: RegressionPredictions['batch'];
    for (let start = 0; start < n; start += size) {
      const indices = Array.from({ length: Math.min(size, n - start) }, (_, i) => start + i);
      const batch = gatherRows(split, this.data.tokenCount, indices);
      first ??= { shapes: batchShapes(batch), rows: indices.length };
      try {
        const result = await this.model.predict(batch.tokens, batch.targets);
        mean.set(result.mean, start * d);
        cholesky.set(result.cholesky, start * d * d);
        nll.set(result.nll!, start);
      } finally {
        this.disposeBatch(batch);
      }
      // Keep the event loop responsive (cancel requests) during long evaluations.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { mean, cholesky, nll, truth: split.targets.slice(0, n * d), ids: [...split.ids], batch: first };
  }
}
