// Parameter and memory estimates of a resolved config, for hover and code lens in the editor.
// The counts follow the module shapes of the paper's networks (docs/design.md#network-shapes): a
// Qwen2 decoder (q/k/v with biases, o and the SwiGLU MLP without, two RMSNorms per block and a
// final one), affine connectors, special-token embeddings, and the Gaussian or CFM head. They are
// exact for those shapes; memory is a lower bound (float32 weights, gradients and Adam moments of
// the trained part, no activations).
import type { ResolvedExperimentConfig } from './generated/experiment_config';
import type { BackboneShape } from './backbone_shape';

export interface ParameterEstimate {
  /** Decoder blocks and the final norm (no token embeddings). */
  backbone: number;
  /** The token embedding matrix (vocab × hidden): frozen in every finetune mode. */
  embeddings: number;
  connectors: number;
  specialTokens: number;
  head: number;
  /** LoRA adapter weights (0 unless finetune = lora). */
  adapters: number;
  total: number;
  trainable: number;
  /** float32 weights + gradients and two Adam moments of the trainable parameters, in bytes. */
  trainingMemoryBytes: number;
}

/** Parameters of one Qwen2 block (HF Qwen2DecoderLayer). */
export function qwen2BlockParameters(shape: BackboneShape): number {
  const h = shape.hidden_size;
  const kv = shape.num_key_value_heads * Math.floor(h / shape.num_attention_heads);
  const attention = h * h + h + 2 * (h * kv + kv) + h * h; // q (+bias), k and v (+bias), o
  const mlp = 3 * h * shape.intermediate_size; // gate, up, down
  return attention + mlp + 2 * h; // + input and post-attention RMSNorm scales
}

/** An affine map in → out, or the MLP variant in → [width × depth] → out (reference connectors). */
function connectorParameters(input: number, output: number, kind: string, depth: number, width: number): number {
  if (kind !== 'mlp') return input * output + output;
  return input * width + width + (depth - 1) * (width * width + width) + (width * output + output);
}

function headParameters(config: ResolvedExperimentConfig, h: number): number {
  const head = config.head;
  if (head.kind === 'gaussian') {
    const d = 6;
    const outputs = head.covariance === 'full' ? d + (d * (d + 1)) / 2 : 2 * d; // 27 or 12 (Eq. 34-37)
    return head.mlp_depth === 0
      ? h * outputs + outputs
      : connectorParameters(h, outputs, 'mlp', head.mlp_depth, head.mlp_width);
  }
  const p = config.data.patch_size;
  const k2 = head.kernel_size * head.kernel_size;
  const c = head.channels;
  const condition = (h + 1) * head.cond_channels * p * p; // Linear(hidden, cond_channels·p²)
  const previous = head.previous_slice_residual ? 1 : 0; // the previous slice's patch as one more condition channel
  const input = (2 + head.cond_channels + previous) * c * k2 + c; // k×k conv of [cond, τ, x_τ] with bias
  const block = c * head.residual_factor * c * k2 + head.residual_factor * c * c; // k×k then 1×1, no biases
  const output = c * k2 + 1; // k×k conv to one channel with bias
  return condition + input + head.blocks * block + output;
}

function specialTokenCount(config: ResolvedExperimentConfig): number {
  // A random backbone has no embeddings for a chat template's pieces, so each of the six distinct
  // pieces (<|im_start|>, <|im_end|>, system, user, assistant, newline) is a trainable stand-in.
  const standIns = config.prompt.template !== 'minimal' && config.backbone.source === 'random' ? 6 : 0;
  if (config.task === 'generation') {
    const system = config.prompt.template === 'chat_trainable' ? config.prompt.trainable_system_tokens : 0;
    return 3 + system + standIns; // <|lightcone-token|>, <|nl_1|>, <|nl_2|> + trainable system tokens
  }
  const prompt =
    config.prompt.template === 'chat_trainable'
      ? config.prompt.trainable_system_tokens + config.prompt.trainable_lightcone_tokens
      : 0;
  return 1 + prompt + standIns; // <|ska_param|> summary token + trainable prompt tokens
}

function adapterParameters(config: ResolvedExperimentConfig, shape: BackboneShape): number {
  if (config.backbone.finetune !== 'lora') return 0;
  const h = shape.hidden_size;
  const kv = shape.num_key_value_heads * Math.floor(h / shape.num_attention_heads);
  const i = shape.intermediate_size;
  const dims: Record<string, [number, number]> = {
    q_proj: [h, h],
    k_proj: [h, kv],
    v_proj: [h, kv],
    o_proj: [h, h],
    gate_proj: [h, i],
    up_proj: [h, i],
    down_proj: [i, h],
  };
  const r = config.backbone.lora.rank;
  const perBlock = config.backbone.lora.targets.reduce((sum, t) => sum + r * (dims[t][0] + dims[t][1]), 0);
  return perBlock * shape.num_hidden_layers;
}

/** Parameter counts and training memory of a resolved config with a known backbone shape. */
export function estimateParameters(config: ResolvedExperimentConfig, shape: BackboneShape): ParameterEstimate {
  const h = shape.hidden_size;
  const blocks = qwen2BlockParameters(shape) * shape.num_hidden_layers;
  const backbone = blocks + h; // + final RMSNorm
  const embeddings = shape.vocab_size * h;
  const c = config.connectors;
  let connectors: number;
  if (config.task === 'regression') {
    connectors = connectorParameters(1, h, c.lightcone.kind, c.lightcone.mlp_depth, c.lightcone.mlp_width);
  } else {
    const patch = config.data.patch_size * config.data.patch_size;
    connectors =
      connectorParameters(patch, h, c.lightcone.kind, c.lightcone.mlp_depth, c.lightcone.mlp_width) +
      6 * connectorParameters(1, h, c.parameters.kind, c.parameters.mlp_depth, c.parameters.mlp_width) +
      (c.t_index.enabled ? connectorParameters(1, h, c.t_index.kind, c.t_index.mlp_depth, c.t_index.mlp_width) : 0);
  }
  const specialTokens = specialTokenCount(config) * h;
  const head = headParameters(config, h);
  const adapters = adapterParameters(config, shape);
  const norms = (2 * shape.num_hidden_layers + 1) * h;
  // The token-embedding table never trains: L3M inputs are vectors, and chat pieces on a random backbone are stand-ins.
  const backboneTrainable =
    config.backbone.finetune === 'full'
      ? backbone
      : config.backbone.finetune === 'lora' && config.backbone.lora.train_norms
        ? norms
        : 0;
  const trainable = connectors + specialTokens + head + adapters + backboneTrainable;
  const total = backbone + embeddings + connectors + specialTokens + head + adapters;
  return {
    backbone,
    embeddings,
    connectors,
    specialTokens,
    head,
    adapters,
    total,
    trainable,
    trainingMemoryBytes: 4 * total + 3 * 4 * trainable,
  };
}

/** 1234567 → "1.23M", 32100 → "32.1k". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)}B`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return String(n);
}

/**
 * A Markdown summary for hover and code lens; `memoryLine` (schemas/memory_estimate.ts) replaces the lower bound
 * of weights and Adam when the whole training memory could be estimated.
 */
export function describeEstimate(e: ParameterEstimate, memoryLine?: string): string {
  const mib = e.trainingMemoryBytes / 2 ** 20;
  if (memoryLine) {
    return [
      `**Parameters:** ${formatCount(e.total)} total, ${formatCount(e.trainable)} trained`,
      `backbone ${formatCount(e.backbone)} + embeddings ${formatCount(e.embeddings)} + connectors ${formatCount(e.connectors)} + special tokens ${formatCount(e.specialTokens)} + head ${formatCount(e.head)}${e.adapters ? ` + LoRA ${formatCount(e.adapters)}` : ''}`,
      memoryLine,
    ].join('  \n');
  }
  return [
    `**Parameters:** ${formatCount(e.total)} total, ${formatCount(e.trainable)} trained`,
    `backbone ${formatCount(e.backbone)} + embeddings ${formatCount(e.embeddings)} + connectors ${formatCount(e.connectors)} + special tokens ${formatCount(e.specialTokens)} + head ${formatCount(e.head)}${e.adapters ? ` + LoRA ${formatCount(e.adapters)}` : ''}`,
    `**Training memory:** at least ${mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`} (float32 weights, gradients and Adam moments; activations extra)`,
  ].join('  \n');
}
