// The architecture of a Qwen2 decoder, as one plain object that goes whole into every module
// (docs/conventions.md#qwen2-config). Field names are ours (camelCase); Hugging Face `config.json` keys are mapped in
// exactly one place, `normalizeHfConfig`, so a renamed or missing HF key is fixed once.

/** The architecture of a Qwen2 decoder (HF `Qwen2Config`, transformers/models/qwen2/configuration_qwen2.py). */
export interface Qwen2Config {
  /** Number of token ids the embedding has rows for (HF `vocab_size`, default 151936). */
  vocabSize: number;
  /** Width of the residual stream (HF `hidden_size`, default 896 for Qwen2.5-0.5B). */
  hiddenSize: number;
  /** Number of decoder blocks (HF `num_hidden_layers`, default 24 for 0.5B). */
  numHiddenLayers: number;
  /** Number of query heads (HF `num_attention_heads`, default 14 for 0.5B). */
  numAttentionHeads: number;
  /** Number of key/value heads; grouped-query attention shares each among numAttentionHeads / numKeyValueHeads
   *  query heads (HF `num_key_value_heads`, default numAttentionHeads, 2 for 0.5B). */
  numKeyValueHeads: number;
  /** Width of the SiLU-gated MLP (HF `intermediate_size`, default 4864 for 0.5B). */
  intermediateSize: number;
  /** Epsilon inside the RMS norms (HF `rms_norm_eps`, default 1e-6). */
  rmsNormEps: number;
  /** Base θ of the rotary embedding (HF `rope_theta`, default 1e6 for Qwen2.5). */
  ropeTheta: number;
  /** Longest sequence the positions were trained for (HF `max_position_embeddings`, default 32768); informative
   *  only, the rotary embedding itself has no table size. */
  maxPositionEmbeddings: number;
  /** Whether the LM head reuses the token embedding matrix (HF `tie_word_embeddings`, default true for 0.5B). */
  tieWordEmbeddings: boolean;
  /** Dropout rate on the softmax attention weights during training (HF `attention_dropout`, default 0). */
  attentionDropout: number;
  /** Standard deviation of the normal init of linear and embedding weights for random models (HF
   *  `initializer_range`, default 0.02). */
  initializerRange: number;
  /** Causal (autoregressive) attention; false gives full attention, as the regression reference networks use
   *  (not an HF key: HF Qwen2 is always causal; default true). */
  causal: boolean;
}

/** Width of one attention head: hiddenSize / numAttentionHeads (HF Qwen2 has no separate head_dim). */
export function headDim(config: Qwen2Config): number {
  return config.hiddenSize / config.numAttentionHeads;
}

/** Qwen2.5-0.5B-Instruct's config.json, normalised (494M parameters, 360M without the embedding). */
export const qwen25_05bInstruct: Readonly<Qwen2Config> = Object.freeze({
  vocabSize: 151936,
  hiddenSize: 896,
  numHiddenLayers: 24,
  numAttentionHeads: 14,
  numKeyValueHeads: 2,
  intermediateSize: 4864,
  rmsNormEps: 1e-6,
  ropeTheta: 1000000,
  maxPositionEmbeddings: 32768,
  tieWordEmbeddings: true,
  attentionDropout: 0,
  initializerRange: 0.02,
  causal: true,
});

/** The fields of a Qwen2Config that count something (sizes, layers, heads): positive integers. */
export const qwen2IntegerKeys = [
  'vocabSize',
  'hiddenSize',
  'numHiddenLayers',
  'numAttentionHeads',
  'numKeyValueHeads',
  'intermediateSize',
] as const satisfies readonly (keyof Qwen2Config)[];

/** Throws a message naming the bad field when a config cannot describe a Qwen2 network. */
export function validateQwen2Config(config: Qwen2Config, source = 'Qwen2 config'): void {
  for (const key of qwen2IntegerKeys) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`${source}: ${key} must be a positive integer, got ${JSON.stringify(value)}.`);
    }
  }
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    throw new Error(
      `${source}: hiddenSize ${config.hiddenSize} is not divisible by numAttentionHeads ` +
        `${config.numAttentionHeads}; choose a head count that divides the hidden size.`,
    );
  }
  if (headDim(config) % 2 !== 0) {
    throw new Error(
      `${source}: the head width hiddenSize/numAttentionHeads = ${headDim(config)} is odd; the rotary ` +
        'embedding pairs dimension i with i + d/2, so it must be even.',
    );
  }
  if (config.numAttentionHeads % config.numKeyValueHeads !== 0) {
    throw new Error(
      `${source}: numAttentionHeads ${config.numAttentionHeads} is not a multiple of numKeyValueHeads ` +
        `${config.numKeyValueHeads}; grouped-query attention needs whole groups.`,
    );
  }
  for (const key of ['rmsNormEps', 'ropeTheta', 'initializerRange'] as const) {
    if (!(config[key] > 0)) throw new Error(`${source}: ${key} must be > 0, got ${config[key]}.`);
  }
  if (!(config.attentionDropout >= 0 && config.attentionDropout < 1)) {
    throw new Error(`${source}: attentionDropout must be in [0, 1), got ${config.attentionDropout}.`);
  }
}

/** Defaults for every field not given (the 0.5B architecture, causal, no dropout). */
export function qwen2Config(partial: Partial<Qwen2Config>): Qwen2Config {
  const config = { ...qwen25_05bInstruct, ...partial };
  if (partial.numKeyValueHeads === undefined && partial.numAttentionHeads !== undefined) {
    config.numKeyValueHeads = partial.numAttentionHeads;
  }
  validateQwen2Config(config);
  return config;
}

function readNumber(json: Record<string, unknown>, key: string, fallback: number | undefined, source: string): number {
  const value = json[key];
  if (value === undefined || value === null) {
    if (fallback === undefined)
      throw new Error(`${source}: required key "${key}" is missing; a Qwen2 config.json has it.`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${source}: "${key}" must be a number, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/**
 * Maps a Hugging Face `config.json` (Qwen2ForCausalLM) to a Qwen2Config: the ONE place HF keys are read.
 * Keys the HF Qwen2 code also defaults (num_key_value_heads, rms_norm_eps, rope_theta, ...) default the same way
 * here; the shape keys are required. `source` names the file in error messages.
 */
export function normalizeHfConfig(json: unknown, source = 'config.json'): Qwen2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(
      `${source}: expected a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}.`,
    );
  }
  const hf = json as Record<string, unknown>;
  const modelType = hf.model_type;
  if (modelType !== undefined && modelType !== 'qwen2') {
    throw new Error(
      `${source}: model_type is ${JSON.stringify(modelType)}, but only "qwen2" checkpoints ` +
        '(Qwen2 / Qwen2.5) are supported.',
    );
  }
  if (hf.rope_scaling !== undefined && hf.rope_scaling !== null) {
    throw new Error(`${source}: rope_scaling ${JSON.stringify(hf.rope_scaling)} is not supported; only plain RoPE.`);
  }
  const numAttentionHeads = readNumber(hf, 'num_attention_heads', undefined, source);
  const config: Qwen2Config = {
    vocabSize: readNumber(hf, 'vocab_size', undefined, source),
    hiddenSize: readNumber(hf, 'hidden_size', undefined, source),
    numHiddenLayers: readNumber(hf, 'num_hidden_layers', undefined, source),
    numAttentionHeads,
    numKeyValueHeads: readNumber(hf, 'num_key_value_heads', numAttentionHeads, source),
    intermediateSize: readNumber(hf, 'intermediate_size', undefined, source),
    rmsNormEps: readNumber(hf, 'rms_norm_eps', 1e-6, source),
    ropeTheta: readNumber(hf, 'rope_theta', 10000, source),
    maxPositionEmbeddings: readNumber(hf, 'max_position_embeddings', 32768, source),
    tieWordEmbeddings: hf.tie_word_embeddings === undefined ? false : hf.tie_word_embeddings === true,
    attentionDropout: readNumber(hf, 'attention_dropout', 0, source),
    initializerRange: readNumber(hf, 'initializer_range', 0.02, source),
    causal: true,
  };
  validateQwen2Config(config, source);
  return config;
}

/** The inverse of normalizeHfConfig, for writing an HF-layout checkpoint (tests, export). */
export function toHfConfig(config: Qwen2Config): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    num_key_value_heads: config.numKeyValueHeads,
    intermediate_size: config.intermediateSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_dropout: config.attentionDropout,
    initializer_range: config.initializerRange,
    hidden_act: 'silu',
  };
}
