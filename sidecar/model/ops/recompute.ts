// Activation recomputation ("gradient checkpointing"): a function whose intermediate activations are not kept
// for the backward pass but computed again from its inputs when the gradient reaches it.
//
// Why: TF.js keeps every tensor a kernel's gradient needs from the forward pass until the whole backward pass is
// over. For a Qwen2.5-0.5B block on a 1353-token window that is about 0.7 GB per block (three or more (T × T)
// attention maps per head, ten MLP-wide tensors per token), 17 GB for the 24 blocks: far beyond the wasm
// backend's 4 GiB heap. Run through `recompute`, a block keeps only its input; the rest is rebuilt, one block at
// a time, while its gradient is taken. The cost is one more forward pass.
//
// How: tf.customGrad runs its forward function as one kernel, with the tape off, so nothing inside it is saved;
// its gradient function runs the same function again under tf.grads, which records a tape of its own (the outer
// tape is closed while gradients are propagated) and gives the gradients of the inputs and of the variables the
// function reads.
import * as tf from '@tensorflow/tfjs';

/** What flows into a recomputed function: its tensors, and which of them need a gradient. */
export interface RecomputeInputs {
  /** The function's tensor arguments. Kept (not copied) for the backward pass. */
  tensors: tf.Tensor[];
  /** Per tensor, whether a gradient flows back to it; the others (data, noise, constant tables) get zeros. */
  differentiable: boolean[];
  /** The variables the function reads whose gradients are wanted (those it reads but are left out get none). */
  variables: tf.Variable[];
}

/**
 * `fn(...tensors)` with its activations recomputed in the backward pass, in chunks of `chunkRows` rows along
 * axis 0 when given (every tensor then has the same number of rows, and `fn` must treat rows independently:
 * the velocity CNN on a batch of patches). Without chunks the whole call is recomputed at once (a decoder
 * block, whose tokens attend to each other). The forward pass is chunked too, so that neither pass holds more
 * than one chunk's activations.
 */
export function recompute(
  fn: (...tensors: tf.Tensor[]) => tf.Tensor,
  inputs: RecomputeInputs,
  chunkRows?: number,
): tf.Tensor {
  const { tensors, differentiable, variables } = inputs;
  if (differentiable.length !== tensors.length) {
    throw new Error(
      `recompute: ${differentiable.length} differentiable flags for ${tensors.length} tensors; give one flag per tensor.`,
    );
  }
  const rows = tensors[0]?.shape[0] ?? 0;
  if (chunkRows !== undefined) {
    if (!(Number.isInteger(chunkRows) && chunkRows >= 1))
      throw new Error(`recompute: chunkRows must be a positive integer, got ${chunkRows}.`);
    for (const t of tensors) {
      if (t.rank < 1 || t.shape[0] !== rows)
        throw new Error(
          `recompute: chunked tensors must share their first axis; got [${t.shape.join(',')}] beside ${rows} rows.`,
        );
    }
  }
  const chunks: [number, number][] = [];
  const step = chunkRows ?? Math.max(rows, 1);
  for (let start = 0; start < Math.max(rows, 1); start += step) chunks.push([start, Math.min(step, rows - start)]);
  const sliceRows = (t: tf.Tensor, [start, size]: [number, number]) =>
    chunkRows === undefined ? t : tf.slice(t, start, size);
  const count = tensors.length;

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const given = args.slice(0, count) as tf.Tensor[];
    save(given);
    const value =
      chunks.length === 1
        ? fn(...given)
        : tf.concat(chunks.map((chunk) => tf.tidy(() => fn(...given.map((t) => sliceRows(t, chunk))))));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const upstream = dy as tf.Tensor;
        const wanted = saved.map((t, i) => (differentiable[i] ? t : null));
        const tensorGrads: tf.Tensor[][] = saved.map(() => []);
        let variableGrads: tf.Tensor[] | null = null;
        // The engine keeps one tape: a tf.grads called while an outer gradient is propagated replaces it, and
        // the outer call would then neither find nor free the tensors its own tape saved. Put it back each time.
        const engineState = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = engineState.activeTape;
        for (const chunk of chunks) {
          const parts = saved.map((t) => sliceRows(t, chunk));
          const targets = [...parts.filter((_, i) => wanted[i] !== null), ...variables];
          let grads: tf.Tensor[];
          try {
            grads = tf.grads((...targetArgs: tf.Tensor[]) => {
              // The differentiable tensors come back as arguments; the rest are closed over.
              let next = 0;
              const call = parts.map((p, i) => (wanted[i] !== null ? targetArgs[next++] : p));
              return fn(...call);
            })(targets, chunkRows === undefined ? upstream : tf.slice(upstream, chunk[0], chunk[1]));
          } finally {
            engineState.activeTape = outerTape;
          }
          let next = 0;
          parts.forEach((_, i) => {
            if (wanted[i] !== null) tensorGrads[i].push(grads[next++]);
          });
          const chunkVariableGrads = grads.slice(next);
          if (variableGrads === null) variableGrads = chunkVariableGrads;
          else {
            const sums: tf.Tensor[] = variableGrads.map((g, j) => tf.add(g, chunkVariableGrads[j]));
            tf.dispose([...variableGrads, ...chunkVariableGrads]);
            variableGrads = sums;
          }
        }
        const inputGrads = saved.map((t, i) => {
          if (!differentiable[i]) return tf.zerosLike(t);
          return tensorGrads[i].length === 1 ? tensorGrads[i][0] : tf.concat(tensorGrads[i]);
        });
        return [...inputGrads, ...(variableGrads ?? [])];
      },
    };
  });
  return op(...tensors, ...variables);
}

/** A tensor's values held in JavaScript memory instead of the backend's. */
interface OffloadedTensor {
  values: Float32Array;
  shape: number[];
}

/**
 * Moves a tensor out of the backend into JavaScript memory (and disposes it). On wasm, a tensor that lives
 * through many later allocations, placed between large short-lived ones, splits the free space they leave, and
 * the heap, which cannot compact, grows past them instead: measured about 100 MB more per half block at the
 * paper's 1353 tokens, enough to run a 4 GiB heap out. Held here, long-lived values pin nothing.
 */
function offload(t: tf.Tensor): OffloadedTensor {
  const out = { values: t.dataSync() as Float32Array, shape: [...t.shape] };
  t.dispose();
  return out;
}

function restore(t: OffloadedTensor): tf.Tensor {
  return tf.tensor(t.values, t.shape, 'float32');
}

/** Whether TF.js is recording a tape, so that a backward pass will follow (the engine's own test, read only). */
function tapeIsRecording(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * `x` through `stages` in order, each stage's activations recomputed in the backward pass, which walks the stages
 * back one at a time and frees each stage's input and gradient as soon as the stage before has its own. One op for
 * the whole chain rather than one per stage, because TF.js frees no gradient before its backward pass ends: with
 * an op per stage, each stage's input gradient would stay until the end, pinned between the next stage's large
 * transients, and the wasm heap, which cannot compact, grows by about one attention map a block.
 * `constants` are tensors every stage reads (rotary tables, the mask), kept for the backward pass and given no
 * gradient: they must not depend on trained variables. `variables[s]` are the trained variables stage s reads.
 * Without a tape recording (evaluation, sampling) the stages just run.
 */
export function recomputeSequence(
  stages: ((x: tf.Tensor, ...constants: tf.Tensor[]) => tf.Tensor)[],
  x: tf.Tensor,
  constants: tf.Tensor[],
  variables: tf.Variable[][],
): tf.Tensor {
  if (variables.length !== stages.length)
    throw new Error(
      `recomputeSequence: ${variables.length} variable lists for ${stages.length} stages; give one per stage.`,
    );
  if (!tapeIsRecording()) {
    let h = x;
    for (const stage of stages) {
      const next = stage(h, ...constants);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
  const flat = variables.flat();
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const given = args.slice(1, 1 + constants.length) as tf.Tensor[];
    save([input, ...given]);
    // Each later stage's input, held in JavaScript memory until the backward pass needs it (see offload).
    const stageInputs: (OffloadedTensor | null)[] = [null];
    let h = input;
    for (let s = 0; s < stages.length; s++) {
      const next = stages[s](h, ...given);
      if (h !== input) h.dispose();
      h = next;
      if (s < stages.length - 1) stageInputs.push({ values: h.dataSync() as Float32Array, shape: [...h.shape] });
    }
    return {
      value: h,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const kept = saved.slice(1);
        const engineState = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = engineState.activeTape;
        const variableGrads: OffloadedTensor[][] = stages.map(() => []);
        let grad: OffloadedTensor | tf.Tensor = dy as tf.Tensor;
        for (let s = stages.length - 1; s >= 0; s--) {
          const stageInput = s === 0 ? saved[0] : restore(stageInputs[s]!);
          const upstream = grad instanceof tf.Tensor ? grad : restore(grad);
          let result: { value: tf.Tensor; grads: tf.Tensor[] };
          try {
            result = tf.valueAndGrads((x: tf.Tensor) => stages[s](x, ...kept))([stageInput, ...variables[s]], upstream);
          } finally {
            engineState.activeTape = outerTape;
          }
          result.value.dispose();
          if (upstream !== dy) upstream.dispose();
          if (s > 0) stageInput.dispose();
          grad = s === 0 ? result.grads[0] : offload(result.grads[0]);
          variableGrads[s] = result.grads.slice(1).map(offload);
        }
        // The constants get no gradient; TF.js never asks for it, as they do not depend on trained variables.
        return [grad as tf.Tensor, ...kept.map(() => tf.scalar(0)), ...variableGrads.flat().map(restore)];
      },
    };
  });
  return op(x, ...constants, ...flat);
}
