// The generation task plugged into the training engine: one update phase over every trainable group
// (the reference trains connectors, head, special tokens and backbone with one AdamW, ratios 1),
// augmented training windows, and validation by the CFM loss on fixed, unaugmented validation windows
// with fixed noise, so that successive validations compare the same number.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { hashSeed, mulberry32 } from '../../train/seeded_random';
import { batchShapes } from '../../runtime/gpu_memory_errors';
import {
  dropoutSeedOf,
  type StepContext,
  type TrainingTask,
  type UpdatePhase,
  type ValidationResult,
} from '../../train/training_task';
import type { GenerationData, WindowBatch } from './generation_data';
import { evaluationWindows, prefetchTrainingWindows, trainingBatch, windowBatch } from './generation_data';
import type { GenerationInputs, GenerationLrRatios, GenerationModel } from './generation_model';
import { timeStepValue } from './generation_prompt';

export interface GenerationTaskOptions {
  lrRatios: GenerationLrRatios;
  weightDecay: number;
  evalBatchSize: number;
  augmentation: ResolvedExperimentConfig['data']['augmentation'];
  seed: number;
  /** Validation windows at most (the first ones of the validation cones). */
  maxValidationWindows: number;
}

/** Tensors of a window batch. */
export function batchTensors(
  batch: WindowBatch,
  data: Pick<GenerationData, 'windowLength' | 'rows' | 'cols' | 'patchSize' | 'sliceScale'>,
): GenerationInputs {
  const p2 = data.patchSize * data.patchSize;
  return {
    patches: tf.tensor4d(batch.patches, [batch.batchSize, data.windowLength, data.rows * data.cols, p2]),
    params: tf.tensor2d(batch.params, [batch.batchSize, 6]),
    timeSteps: tf.tensor1d(Array.from(batch.starts, (s) => timeStepValue(s, data.sliceScale))),
  };
}

export class GenerationTask implements TrainingTask<GenerationInputs> {
  readonly trainSize: number;
  readonly phases: UpdatePhase<GenerationInputs>[];

  constructor(
    readonly model: GenerationModel,
    readonly data: GenerationData,
    readonly options: GenerationTaskOptions,
  ) {
    this.trainSize = data.trainWindows.length;
    this.phases = [
      {
        name: 'all',
        groups: model.parameterGroups(options.lrRatios, options.weightDecay),
        loss: (batch, context) =>
          model.loss(
            batch,
            data.contextSlices,
            context.seed,
            { training: true, dropoutSeed: dropoutSeedOf(context) },
            context.shard?.start ?? 0,
          ),
      },
    ];
  }

  batch(indices: Int32Array, context: StepContext): GenerationInputs {
    const random = mulberry32(hashSeed(context.seed, 0xba7c));
    return batchTensors(trainingBatch(this.data, indices, this.options.augmentation, random, context.shard), this.data);
  }

  prefetch(indices: Int32Array): void {
    prefetchTrainingWindows(this.data, indices);
  }

  disposeBatch(batch: GenerationInputs): void {
    tf.dispose([batch.patches, batch.params, batch.timeSteps]);
  }

  namedWeights(): [string, tf.Variable][] {
    return this.model.namedTrainableWeights();
  }

  /** The CFM loss on the validation windows with noise fixed per window batch. */
  async validate(): Promise<ValidationResult> {
    const cones = this.data.validation.cones;
    const windows = evaluationWindows(
      cones,
      { length: this.data.windowLength, context: this.data.contextSlices, stride: this.data.stride },
      -1,
    ).slice(0, this.options.maxValidationWindows);
    if (windows.length === 0) return { loss: NaN, metrics: {} };
    let sum = 0;
    let first: ValidationResult['batch'];
    const size = Math.max(1, this.options.evalBatchSize);
    for (let start = 0; start < windows.length; start += size) {
      const chunk = windows.slice(start, start + size);
      const inputs = batchTensors(windowBatch(cones, chunk, this.data.windowLength, this.data.patchSize), this.data);
      first ??= { shapes: batchShapes(inputs), rows: chunk.length };
      try {
        const loss = tf.tidy(() =>
          this.model.loss(inputs, this.data.contextSlices, hashSeed(this.options.seed, 0x7a1, start) & 0x7fffffff, {
            training: false,
          }),
        );
        try {
          sum += (await loss.data())[0] * chunk.length;
        } finally {
          loss.dispose();
        }
      } finally {
        this.disposeBatch(inputs);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const loss = sum / windows.length;
    return { loss, metrics: { cfm_loss: loss, windows: windows.length }, batch: first };
  }
}
