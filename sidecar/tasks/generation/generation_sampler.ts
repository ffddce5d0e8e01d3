// Autoregressive forecasting of whole slices, patch by patch (reference `L3MGenerator.generate`,
// docs/paper-mapping.md#sampling): the prompt and N ground-truth context slices go in first; then for every
// patch of the generated slices the hidden state at the last token gives the condition, the CFM ODE
// turns noise into the patch, and the patch (plus any separators that follow it) is appended.
// With the key/value cache each step feeds only the new tokens, so a patch costs the same however
// long the context; without it, each step runs the whole sequence again (the reference point for the
// cache, and the check that both give the same patch for the same noise).
import * as tf from '@tensorflow/tfjs';
import { KvCache } from '../../model/kv_cache';
import { hashSeed } from '../../train/seeded_random';
import type { GenerationModel } from './generation_model';
import { separatorsAfter } from './generation_prompt';
import type { OdeOptions } from './ode_solvers';

export interface ForecastOptions {
  /** Normalised parameters (6). */
  params: ArrayLike<number>;
  /** Time-step value of the first context slice (timeStepValue). */
  timeStep: number;
  /** Ground-truth context slices (C, rows·cols, p²) flattened; C may be 0. */
  context: Float32Array;
  contextSlices: number;
  /** Slices to generate. */
  slices: number;
  ode: Omit<OdeOptions, 't0' | 't1'>;
  /** The noise of patch k is drawn from hashSeed(seed, k), the same with and without the cache. */
  seed: number;
  useCache: boolean;
  signal?: AbortSignal;
  /** Called after each generated slice with its patches (rows·cols, p²). */
  onSlice?: (index: number, patches: Float32Array) => void | Promise<void>;
}

/** Patches (slices, rows·cols, p²) of the generated slices. */
export async function forecastSlices(model: GenerationModel, options: ForecastOptions): Promise<Float32Array> {
  const p2 = model.patchSize * model.patchSize;
  const perSlice = model.patchesPerSlice;
  const { contextSlices, slices } = options;
  if (!Number.isInteger(slices) || slices < 1)
    throw new Error(`Sampling: the number of slices to generate must be an integer ≥ 1, got ${slices}.`);
  if (!Number.isInteger(contextSlices) || contextSlices < 0)
    throw new Error(`Sampling: context slices must be an integer ≥ 0, got ${contextSlices}.`);
  if (options.context.length !== contextSlices * perSlice * p2) {
    throw new Error(
      `Sampling: the context holds ${options.context.length} values, expected ${contextSlices} slices × ${perSlice} patches × ${p2}.`,
    );
  }
  const total = contextSlices + slices;
  if (total > model.maxSlices()) {
    throw new Error(
      `Sampling: ${contextSlices} context + ${slices} generated slices need ${model.prefixLength + total * model.tokensPerSlice} tokens, ` +
        `more than the model's max_position_embeddings ${model.backbone.config.maxPositionEmbeddings} (at most ${model.maxSlices()} slices); ask for fewer slices.`,
    );
  }
  const output = new Float32Array(slices * perSlice * p2);
  // The slice before the one being generated (the last context slice, then each generated slice), for
  // head.previous_slice_residual; zeros when there is no context.
  let previousSlice =
    contextSlices > 0 ? options.context.subarray((contextSlices - 1) * perSlice * p2) : new Float32Array(perSlice * p2);
  const cache = options.useCache ? new KvCache(model.backbone.config.numHiddenLayers) : null;
  // Without a cache the whole input so far is kept and re-run every step.
  let sequence: tf.Tensor3D = tf.tidy(() => {
    const params = tf.tensor2d(Array.from(options.params), [1, 6]);
    const prefix = model.prefixEmbeds(params, tf.tensor1d([options.timeStep]));
    if (contextSlices === 0) return prefix;
    return tf.concat<tf.Tensor3D>(
      [prefix, model.lightconeEmbeds(tf.tensor4d(options.context, [1, contextSlices, perSlice, p2]))],
      1,
    );
  });
  let pending: tf.Tensor3D | null = sequence; // tokens not yet run through the backbone (cached mode)
  try {
    for (let slice = 0; slice < slices; slice++) {
      for (let patch = 0; patch < perSlice; patch++) {
        if (options.signal?.aborted) throw new Error('Sampling was cancelled.');
        const k = slice * perSlice + patch;
        const { cond, noise } = tf.tidy(() => {
          const input = cache ? pending! : sequence;
          const { hidden } = model.backbone.forward({ inputsEmbeds: input, cache: cache ?? undefined });
          const last = tf.reshape<tf.Rank.R2>(tf.slice(hidden, [0, hidden.shape[1] - 1, 0], [1, 1, hidden.shape[2]]), [
            1,
            hidden.shape[2],
          ]);
          const previous = model.previousSliceResidual
            ? tf.tensor2d(previousSlice.subarray(patch * p2, (patch + 1) * p2), [1, p2])
            : null;
          return {
            cond: model.conditions(last, previous),
            noise: tf.randomNormal<tf.Rank.R2>([1, p2], 0, 1, 'float32', hashSeed(options.seed, k) & 0x7fffffff),
          };
        });
        let sampled: tf.Tensor2D;
        try {
          sampled = await model.samplePatches(cond, noise, options.ode);
        } finally {
          tf.dispose([cond, noise]);
        }
        // Read asynchronously: the webgpu backend has no synchronous read under Node.
        output.set(await sampled.data(), k * p2);
        const row = Math.floor(patch / model.cols);
        const step = tf.tidy(() =>
          model.stepEmbeds(sampled, separatorsAfter(row, patch % model.cols, model.rows, model.cols), 1),
        );
        sampled.dispose();
        if (cache) {
          if (pending !== sequence) pending?.dispose();
          pending = step;
        } else {
          const previous = sequence;
          sequence = tf.concat<tf.Tensor3D>([previous, step], 1);
          tf.dispose([previous, step]);
        }
        // Let cancellation and progress messages through between patches.
        if (patch % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      previousSlice = output.subarray(slice * perSlice * p2, (slice + 1) * perSlice * p2);
      await options.onSlice?.(slice, output.slice(slice * perSlice * p2, (slice + 1) * perSlice * p2));
    }
    return output;
  } finally {
    if (pending && pending !== sequence) pending.dispose();
    sequence.dispose();
    cache?.dispose();
  }
}
