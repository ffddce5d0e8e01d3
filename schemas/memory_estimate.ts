// The memory a training run of a config takes: the model's weights, the trained parameters' gradients and
// Adam moments, the activations one micro-batch keeps for its backward pass, the largest tensors the backward
// pass makes on top, the data cache and the process itself. Hover, `l3m sweep plan` and the check before a run
// starts (sidecar/jobs/memory_check.ts) all read it.
//
// The activation counts are those of this implementation, not of a textbook transformer: they are the tensors
// TF.js keeps for the gradient of each kernel as sidecar/model and sidecar/tasks/generation compute it, counted
// on the tape of a training step (bench/_paper_scale/tape_probe.ts lists them) and exact to the float at every
// shape tried. Per decoder block and token (B·T rows, H wide, kv = key/value width, I = MLP width):
//   14·H + 4·kv + 4·I + 6   the norms' inputs, squares and scaled values; q, k, v, o, gate, up, down inputs;
//                           rotary outputs; the SwiGLU's gate, up and sigmoid
//   + Σ over LoRA targets (r + 3·out)   the adapter's r-wide inner value and its up, scaled and summed outputs
// and per block and head 3·T² attention values (scores, scaled scores, softmax), 4 more with attention dropout
// (its mask, the scaled and the dropped weights), when attention takes the plain path. A sequence longer than
// `attentionQueryBlockRows` without dropout takes the blocked path (sidecar/model/ops/blocked_attention.ts), which
// keeps no map and makes about 10 maps of one block of query rows at a time in its backward pass. The velocity CNN keeps, per pixel of the M = B·W'·X·Y patches
// it predicts, 2·(cond + 2) + 4·C + 5 values and (3·f + 4)·C per residual block (C channels, factor f). With
// `training.recompute_activations` a block keeps only the inputs of its two residual halves and the CNN its three
// inputs, and the backward pass holds one half block's activations (or one 64 MB chunk of the CNN's) at a time. TF.js keeps the gradient
// of every kept tensor until the backward pass ends, so the backward pass doubles what it walks through.
import type { ResolvedExperimentConfig } from './generated/experiment_config';
import type { BackboneShape } from './backbone_shape';
import type { ParameterEstimate } from './config_estimates';
import { simulatorPresets } from './simulator_presets';

/**
 * Query rows per block of the model's attention over a longer sequence (sidecar/model/ops/blocked_attention.ts
 * reads it): no whole (T × T) map per head is made, in the forward or the backward pass.
 */
export const attentionQueryBlockRows = 256;

/** Block-sized attention maps the blocked path holds at once in its backward pass (scores to softmax, then dS). */
const blockedAttentionMaps = 10;

/** Whether training attention over `tokens` takes the blocked path: longer than a block, and no dropout. */
export function attentionIsBlocked(config: ResolvedExperimentConfig, tokens: number): boolean {
  return tokens > attentionQueryBlockRows && config.backbone.attention_dropout === 0;
}

/** A Node process with TF.js and its wasm module loaded, before any tensor (measured: 190–260 MB). */
export const processBaselineBytes = 256 * 2 ** 20;

/**
 * The wasm heap's peak over the live tensors: it grows in steps of up to 20 % and keeps freed space for reuse, so
 * its high-water mark runs above what is alive at once (measured 13–14 % above the estimate at medium shapes,
 * docs/paper-scale.md#memory-estimate).
 */
export const wasmHeapOverhead = 1.15;

/** Whether a run's tensors, with the heap's overhead, fit the wasm backend's heap. */
export function fitsWasmHeap(estimate: MemoryEstimate): boolean {
  return estimate.tensorBytes * wasmHeapOverhead + estimate.heapSlackBytes <= wasmHeapLimitBytes;
}

/** A worker thread's own V8 isolate and wasm module, before its tensors. */
const workerThreadBytes = 64 * 2 ** 20;

/** The wasm backend's heap cannot grow past 4 GiB − 64 KiB (emscripten's limit in tfjs-backend-wasm). */
export const wasmHeapLimitBytes = 4294901760;

/** Floats of the velocity CNN's activations held at once while a chunk of patches is recomputed. */
const cnnChunkFloats = 2 ** 24;

export interface MemoryEstimate {
  /** Rows of a micro-batch one worker computes (training.batch_size over the workers); accumulation adds none. */
  microBatch: number;
  /** Data-parallel workers, each with its own copy of the weights (sidecar/jobs/training_workers.ts). */
  workers: number;
  /** Tokens of one sample's sequence. */
  sequenceLength: number;
  weightsBytes: number;
  /** Gradients and the two Adam moments of the trained parameters. */
  optimizerBytes: number;
  /** What one micro-batch keeps from its forward pass for the backward pass. */
  activationBytes: number;
  /** The largest set of tensors the backward pass makes on top: one recomputed block, or the attention gradients. */
  backwardBytes: number;
  /** The decoded-chunk cache of the dataset's store (data.cache_mb). */
  dataBytes: number;
  /** The process before any tensor. */
  processBytes: number;
  /** Every tensor of the training thread at the peak of a step. */
  tensorBytes: number;
  /**
   * What the wasm heap grows by beyond the live tensors when blocks are recomputed: it cannot compact, and each
   * recomputed block's backward pass leaves space it cannot reuse. With whole attention maps, about one map a block
   * (measured at 1353 tokens: 100 MB a block while the live tensors stayed level); with blocked attention, about
   * two MLP-wide weight matrices a block, the largest transients left (measured at 1353 tokens: 34 MiB a block
   * between 4 and 24 blocks; docs/paper-scale.md#measured).
   */
  heapSlackBytes: number;
  /** The estimated peak resident memory of the training process. */
  totalBytes: number;
  recompute: boolean;
}

/** Tokens before the lightcone's in a generation prompt (sidecar/tasks/generation/generation_prompt.ts). */
function generationPrefixLength(config: ResolvedExperimentConfig): number {
  const conditioning = 6 + (config.connectors.t_index.enabled ? 1 : 0);
  if (config.prompt.template === 'minimal') return conditioning + 1;
  const system = config.prompt.template === 'chat_trainable' ? config.prompt.trainable_system_tokens : 0;
  // <|im_start|>system\n … <|im_end|>\n<|im_start|>user\n [conditioning] <|im_end|>\n<|im_start|>assistant\n <|lightcone-token|>
  return 3 + system + 2 + 3 + conditioning + 2 + 3 + 1;
}

/** Transverse cells of the config's slices, when the config says. */
function sliceCellsOf(config: ResolvedExperimentConfig): number | undefined {
  const data = config.data;
  if (data.source === 'simulator') return simulatorPresets[data.simulator.preset]?.n;
  if (data.source === 'files') return data.files.transverse_cells;
  return undefined;
}

/** Sequence length of one training sample, or undefined when the slice size is unknown. */
export function trainingSequenceLength(config: ResolvedExperimentConfig): number | undefined {
  if (config.task === 'regression') {
    const p = config.data.preprocessing;
    // The lightcone's tokens plus the summary token and the prompt's few others.
    return (p.tokens === 'global_signal' ? p.global_signal_tokens : 47) + 8;
  }
  const cells = sliceCellsOf(config);
  if (cells === undefined) return undefined;
  const side = Math.floor(cells / config.data.patch_size);
  return generationPrefixLength(config) + config.data.sublightcone.length * (side * side + side + 1);
}

const loraOutputs = (shape: BackboneShape, kv: number): Record<string, number> => ({
  q_proj: shape.hidden_size,
  k_proj: kv,
  v_proj: kv,
  o_proj: shape.hidden_size,
  gate_proj: shape.intermediate_size,
  up_proj: shape.intermediate_size,
  down_proj: shape.hidden_size,
});

/**
 * Floats one decoder block keeps for its backward pass, per micro-batch of `batch` sequences of `tokens`, by
 * residual half: the attention half (input norm, q/k/v/o, rotary, the attention maps on the plain path) and the
 * MLP half (norm, gate/up/down, SwiGLU), which recomputation rebuilds one at a time; and `attentionTransient`, the
 * block-sized maps the blocked attention's backward pass makes on top (0 on the plain path).
 */
export function blockActivationHalves(
  config: ResolvedExperimentConfig,
  shape: BackboneShape,
  batch: number,
  tokens: number,
): { attention: number; mlp: number; attentionTransient: number } {
  const h = shape.hidden_size;
  const kv = shape.num_key_value_heads * Math.floor(h / shape.num_attention_heads);
  let attention = 10 * h + 4 * kv + 3;
  let mlp = 4 * h + 4 * shape.intermediate_size + 3;
  if (config.backbone.finetune === 'lora') {
    const outputs = loraOutputs(shape, kv);
    for (const target of config.backbone.lora.targets) {
      const adapter = config.backbone.lora.rank + 3 * outputs[target];
      if (['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(target)) attention += adapter;
      else mlp += adapter;
    }
  }
  const blocked = attentionIsBlocked(config, tokens);
  const mapsPerHead = blocked ? 0 : config.backbone.attention_dropout > 0 ? 7 : 3;
  return {
    attention: batch * tokens * attention + batch * mapsPerHead * shape.num_attention_heads * tokens * tokens,
    mlp: batch * tokens * mlp,
    attentionTransient: blocked
      ? blockedAttentionMaps * batch * shape.num_attention_heads * attentionQueryBlockRows * tokens
      : 0,
  };
}

/** Floats one decoder block keeps for its backward pass (both halves). */
export function blockActivationFloats(
  config: ResolvedExperimentConfig,
  shape: BackboneShape,
  batch: number,
  tokens: number,
): number {
  const halves = blockActivationHalves(config, shape, batch, tokens);
  return halves.attention + halves.mlp;
}

/** Floats the generation model keeps outside its blocks: connectors, separators, final norm, condition, CNN. */
function generationHeadFloats(
  config: ResolvedExperimentConfig,
  shape: BackboneShape,
  batch: number,
  tokens: number,
): { saved: number; cnn: number; cnnInputs: number } {
  const h = shape.hidden_size;
  const p2 = config.data.patch_size ** 2;
  const side = Math.floor((sliceCellsOf(config) ?? 0) / config.data.patch_size);
  const window = config.data.sublightcone.length;
  const predicted = window - config.data.sublightcone.context;
  const perSlice = side * side + side + 1;
  const head = config.head.kind === 'cfm' ? config.head : undefined;
  const cond = head?.cond_channels ?? 2;
  const channels = head?.channels ?? 0;
  const factor = head?.residual_factor ?? 2;
  const blocks = head?.blocks ?? 0;
  const previous = head?.previous_slice_residual ? 1 : 0;
  const patches = batch * predicted * side * side; // M
  // The patch connector's input and output, the row and slice separators and the assembled windows.
  const inputs = batch * window * (side * side * (p2 + 2 * h) + side * h + side * (side + 1) * h + h + perSlice * h);
  const finalNorm = batch * tokens * (4 * h + 3);
  // The hidden states before each patch, their rows, the condition's linear map and the flow's noise and path.
  const condition = batch * window * perSlice * h + batch * predicted * side * (side + 1) * h + patches * h;
  const flow = 2 * patches * cond * p2 + 7 * patches * p2 + 2 * patches;
  const cnn = patches * p2 * (2 * (cond + 2 + previous) + 4 * channels + 5 + blocks * (3 * factor + 4) * channels);
  const cnnInputs = patches * p2 * (cond + 1 + previous) + patches;
  return { saved: inputs + finalNorm + condition + flow, cnn, cnnInputs };
}

/**
 * The memory estimate of a training run of `config` (backbone `shape`, parameters `parameters`), or undefined
 * when the sequence length cannot be told from the config (slice size unknown).
 */
export function estimateTrainingMemory(
  config: ResolvedExperimentConfig,
  shape: BackboneShape,
  parameters: ParameterEstimate,
  workers = 1,
): MemoryEstimate | undefined {
  const tokens = trainingSequenceLength(config);
  if (tokens === undefined) return undefined;
  // Data-parallel workers each hold the whole model and their share of the micro-batch's rows.
  const batch = Math.ceil(config.training.batch_size / workers);
  const recompute = config.training.recompute_activations;
  const layers = shape.num_hidden_layers;
  const halves = blockActivationHalves(config, shape, batch, tokens);
  const block = halves.attention + halves.mlp;
  const h = shape.hidden_size;
  const head =
    config.task === 'generation'
      ? generationHeadFloats(config, shape, batch, tokens)
      : { saved: batch * tokens * (5 * h + 3), cnn: 0, cnnInputs: 0 };
  // The largest weight gradient made on top (a frozen weight's too: the linear kernel computes it, then drops it).
  const temporaries = h * shape.intermediate_size;
  let activationFloats: number;
  let backwardFloats: number;
  // TF.js frees no gradient of an intermediate tensor before its backward pass ends (tfjs-core's
  // backpropagateGradients disposes only gradients it sums), so a pass holds a gradient beside each tensor it
  // kept: twice the activations. A recomputed half block's own pass ends with it, so only one half is doubled.
  if (recompute) {
    // Each block keeps the inputs of its two halves.
    activationFloats = 2 * layers * batch * tokens * h + head.saved + head.cnnInputs;
    const cnnChunk = head.cnn > 0 ? Math.min(head.cnn, cnnChunkFloats) : 0;
    backwardFloats =
      activationFloats +
      Math.max(
        2 * halves.attention + Math.max(temporaries, halves.attentionTransient),
        2 * halves.mlp + temporaries,
        2 * cnnChunk,
      );
  } else {
    activationFloats = layers * block + head.saved + head.cnn;
    backwardFloats = activationFloats + Math.max(temporaries, halves.attentionTransient);
  }
  const weightsBytes = 4 * parameters.total;
  const optimizerBytes = 12 * parameters.trainable;
  const activationBytes = 4 * activationFloats;
  const backwardBytes = 4 * backwardFloats;
  const tensorBytes = weightsBytes + optimizerBytes + activationBytes + backwardBytes;
  const dataBytes = config.data.cache_mb * 2 ** 20;
  const heapSlackBytes = !recompute
    ? 0
    : attentionIsBlocked(config, tokens)
      ? 4 * layers * 2 * h * shape.intermediate_size
      : 4 * layers * batch * shape.num_attention_heads * tokens * tokens;
  const workerBytes = (workers - 1) * (workerThreadBytes + weightsBytes + activationBytes + backwardBytes);
  return {
    microBatch: batch,
    workers,
    sequenceLength: tokens,
    weightsBytes,
    optimizerBytes,
    activationBytes,
    backwardBytes,
    dataBytes,
    processBytes: processBaselineBytes,
    tensorBytes,
    heapSlackBytes,
    totalBytes: tensorBytes + heapSlackBytes + dataBytes + processBaselineBytes + workerBytes,
    recompute,
  };
}

/** 3.2 GiB, 850 MiB. */
export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(mib >= 10 ? 0 : 1)} MiB`;
}

/** What would lower the estimate most, for messages: the biggest term's knob first. */
export function memoryAdvice(config: ResolvedExperimentConfig, estimate: MemoryEstimate): string {
  const advice: string[] = [];
  if (!estimate.recompute && estimate.activationBytes > estimate.weightsBytes / 4)
    advice.push('set training.recompute_activations to true (activations of one block at a time)');
  if (estimate.microBatch > 1)
    advice.push(
      `lower training.batch_size (memory grows with it) and raise training.gradient_accumulation_steps to keep ${estimate.microBatch * config.training.gradient_accumulation_steps} samples per step`,
    );
  if (config.task === 'generation' && estimate.sequenceLength > 256)
    advice.push('shorten data.sublightcone.length (attention grows with its square)');
  if (estimate.dataBytes > 512 * 2 ** 20) advice.push('lower data.cache_mb');
  advice.push('or use a smaller backbone');
  return advice.join('; ');
}

/** The hover's line, in place of the parameter estimate's lower bound. */
export function describeMemoryMarkdown(estimate: MemoryEstimate): string {
  return `**Training memory:** ${describeMemory(estimate)}`;
}

/** One line for hover and `l3m sweep plan`. */
export function describeMemory(estimate: MemoryEstimate): string {
  const wasm = fitsWasmHeap(estimate) ? '' : '; over the wasm backend’s 4 GiB heap';
  return (
    `about ${formatBytes(estimate.totalBytes)} to train (weights ${formatBytes(estimate.weightsBytes)}, ` +
    `gradients and Adam ${formatBytes(estimate.optimizerBytes)}, activations ${formatBytes(estimate.activationBytes + estimate.backwardBytes)} ` +
    `at ${estimate.microBatch} × ${estimate.sequenceLength} tokens${estimate.recompute ? ' recomputed' : ''}` +
    `${estimate.workers > 1 ? `, on each of ${estimate.workers} workers` : ''}, ` +
    `data cache ${formatBytes(estimate.dataBytes)}, process ${formatBytes(estimate.processBytes)})${wasm}`
  );
}
