// Converts a config of the paper's own PyTorch code (heidelberg-hepml/L3M: a flat JSON loaded into
// the ExpConfig / RegExpConfig / GenExpConfig dataclasses, docs/paper-mapping.md#reference-configs) into an L3M Studio
// experiment config, and lists every key that has no counterpart, with the reason. Values the
// reference hard-codes (AdamW, the dopri5 solver with rtol = atol = 1e-3, LoRA alpha = 2r) become
// explicit fields. Pure: the `l3m import` command reads and writes the files.
import type { ExperimentConfig } from './generated/experiment_config';
import { isNumberArray } from './json_value';

export interface UnmappedField {
  key: string;
  value: unknown;
  /** Why it has no counterpart, and what to do instead where something can be done. */
  reason: string;
}

export interface ImportResult {
  task: 'regression' | 'generation';
  config: ExperimentConfig;
  unmapped: UnmappedField[];
}

type PaperConfig = Record<string, unknown>;

const generationKeys = [
  'lc_shape',
  'parameter_connector',
  't_index_connector',
  'cfm_connector',
  't_init',
  't_max',
  'chunked_sublc_size',
  'eval_t_max',
  'eval_t_init',
  'eval_l2_lcs',
  'eval_generation_lcs',
  'eval_l2_samples',
  'lora',
];
const regressionKeys = [
  'number_of_runs',
  'num_sys_prompt_tokens',
  'num_pre_lc_tokens',
  'train_ds_multiplicity',
  'custom_number_of_layers',
];

/** Keys the reference's example configs carry but no reference code reads: their behaviour is hard-coded in its scripts. */
const unreadByReference = new Set([
  'lr_ratios',
  'convergence_patience',
  'train_head',
  'train_only_head',
  'train_interleaved',
  'split_lc_tok_training',
  'start_gradient_clipping',
  'lc_drop',
  'epochs_per_eval',
  '_attn_implementation',
]);

/** Reference keys that only tune PyTorch execution and have no meaning for TensorFlow.js. */
const executionOnly: Record<string, string> = {
  tf32: 'TF32 matmul precision is a CUDA/PyTorch setting; TensorFlow.js chooses its own precision.',
  attn_implementation:
    'the attention kernel (sdpa, flash) is a PyTorch choice; L3M Studio has one attention implementation.',
  pad_sequence:
    'padding to a multiple of 8 is a GPU-kernel optimisation of the reference; sequences are not padded here.',
  epochs_for_log: 'training loss is logged every step in metrics.jsonl.',
  dataloader_threads: 'data loading runs in the sidecar; use runtime.threads for worker threads.',
  dataloader_pin_memory: 'a PyTorch DataLoader setting.',
  dataloader_persistent: 'a PyTorch DataLoader setting.',
  compile: 'torch.compile has no TensorFlow.js counterpart.',
  compile_for_eval: 'torch.compile has no TensorFlow.js counterpart.',
};

/** The reference's defaults for a from-scratch Qwen2 (`L3M*Config.for_scratch_model`). */
const scratchDefaults = {
  vocab_size: 1,
  hidden_size: 32,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  max_position_embeddings: 3072,
  rope_theta: 10000,
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Detects the task from keys only one dataclass has; `undefined` when the file gives no hint. */
export function detectTask(paper: PaperConfig): 'regression' | 'generation' | undefined {
  if (generationKeys.some((k) => k in paper)) return 'generation';
  if (regressionKeys.some((k) => k in paper)) return 'regression';
  if (Array.isArray(paper.patch_size) && paper.patch_size[0] === 1 && paper.patch_size[1] === paper.patch_size[2])
    return 'generation';
  return undefined;
}

function experimentName(runName: unknown, fallback: string): string {
  const cleaned = (typeof runName === 'string' ? runName : '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return cleaned || fallback.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'imported';
}

function connector(value: unknown): { kind: 'linear' | 'mlp'; mlp_depth?: number; mlp_width?: number } | undefined {
  if (!isObject(value)) return undefined;
  if (value.cls === 'mlp') {
    const mlp = isObject(value.mlp_config) ? value.mlp_config : {};
    return {
      kind: 'mlp',
      ...(typeof mlp.depth === 'number' ? { mlp_depth: mlp.depth } : {}),
      ...(typeof mlp.interm_dim === 'number' ? { mlp_width: mlp.interm_dim } : {}),
    };
  }
  return { kind: 'linear' };
}

/**
 * Converts a parsed reference config. `fallbackName` names the experiment when `run_name` is empty
 * (the file name, usually); `task` overrides the detection.
 */
export function importPaperConfig(
  paper: PaperConfig,
  fallbackName: string,
  task?: 'regression' | 'generation',
): ImportResult {
  const resolvedTask = task ?? detectTask(paper) ?? 'regression';
  const unmapped: UnmappedField[] = [];
  const used = new Set<string>();
  const take = (key: string): unknown => {
    used.add(key);
    return paper[key];
  };
  const drop = (key: string, reason: string) => {
    used.add(key);
    if (key in paper) unmapped.push({ key, value: paper[key], reason });
  };

  const config: ExperimentConfig = { name: experimentName(take('run_name'), fallbackName), task: resolvedTask };
  const backbone: NonNullable<ExperimentConfig['backbone']> = {};
  const data: NonNullable<ExperimentConfig['data']> = {};
  const training: NonNullable<ExperimentConfig['training']> = { optimizer: 'adamw', unit: 'epochs' };
  const evaluation: NonNullable<ExperimentConfig['evaluation']> = {};
  const prompt: NonNullable<ExperimentConfig['prompt']> = {};
  const connectors: NonNullable<ExperimentConfig['connectors']> = {};
  const preprocessing: NonNullable<NonNullable<ExperimentConfig['data']>['preprocessing']> = {};

  // Backbone: pretrained unless the reference trains from scratch or skips loading weights.
  const fromScratch = take('train_from_scratch') === true || take('load_llm_weights') === false;
  if (fromScratch) {
    const scratchConfig = take('scratch_config');
    const scratch = isObject(scratchConfig) ? scratchConfig : {};
    const layers = take('custom_number_of_layers');
    backbone.source = 'random';
    backbone.finetune = 'full';
    backbone.architecture = {
      ...scratchDefaults,
      ...Object.fromEntries(Object.entries(scratch).filter(([k]) => k in scratchDefaults)),
      ...(typeof layers === 'number' ? { num_hidden_layers: layers } : {}),
    };
    for (const key of Object.keys(scratch).filter((k) => !(k in scratchDefaults))) {
      unmapped.push({
        key: `scratch_config.${key}`,
        value: scratch[key],
        reason: 'no architecture field of that name; see backbone.architecture for the supported ones.',
      });
    }
    // The reference sets is_causal = False for its regression networks from scratch (docs/paper-mapping.md#regression).
    if (resolvedTask === 'regression') backbone.causal = false;
  } else {
    backbone.source = 'pretrained';
    const dir = take('LLM_DIR');
    if (typeof dir === 'string' && dir !== '' && dir !== 'placeholder') backbone.path = dir;
    else if (dir !== undefined)
      unmapped.push({
        key: 'LLM_DIR',
        value: dir,
        reason:
          'not a checkpoint path; backbone.path keeps its default (models/Qwen2.5-0.5B-Instruct beside the config). Set it to your checkpoint folder.',
      });
    drop(
      'custom_number_of_layers',
      'a truncated pretrained backbone is not supported; use backbone.source "random" with architecture.num_hidden_layers.',
    );
    drop('scratch_config', 'only used when training from scratch.');
  }
  const attentionDropout = paper.attn_drop;
  if (typeof attentionDropout === 'number') {
    take('attn_drop');
    backbone.attention_dropout = attentionDropout;
  }
  const lora = take('lora');
  if (resolvedTask === 'generation') {
    if (isObject(lora) && lora.use === true) {
      const settings = isObject(lora.config) ? lora.config : {};
      backbone.finetune = 'lora';
      backbone.lora = {
        ...(typeof settings.r === 'number' ? { rank: settings.r } : {}),
        alpha: null, // the reference hard-codes alpha = 2r (docs/paper-mapping.md#finetuning)
        ...(typeof settings.train_norms === 'boolean' ? { train_norms: settings.train_norms } : {}),
      };
      if (settings.use_dora === true)
        unmapped.push({
          key: 'lora.config.use_dora',
          value: true,
          reason: 'DoRA is not implemented; plain LoRA is used.',
        });
      for (const key of ['use_router', 'first_n', 'last_n', 'router_rank']) {
        if (key in settings)
          unmapped.push({ key: `lora.config.${key}`, value: settings[key], reason: 'read by no reference code.' });
      }
    } else if (!fromScratch) {
      backbone.finetune = 'full'; // the reference fine-tunes everything but the embeddings
    }
  } else if (lora !== undefined) {
    unmapped.push({ key: 'lora', value: lora, reason: 'the reference regression code does not read it.' });
  }

  // Prompt.
  const minimal = take('minimalistic_chat_template') === true;
  const systemTokens = take('num_sys_prompt_tokens');
  const lightconeTokens = take('num_pre_lc_tokens');
  const trainableTokens =
    (typeof systemTokens === 'number' ? systemTokens : 0) + (typeof lightconeTokens === 'number' ? lightconeTokens : 0);
  prompt.template = minimal ? 'minimal' : trainableTokens > 0 ? 'chat_trainable' : 'chat';
  if (trainableTokens > 0) {
    if (minimal) {
      unmapped.push({
        key: 'num_sys_prompt_tokens/num_pre_lc_tokens',
        value: trainableTokens,
        reason:
          'trainable prompt tokens exist only in the chat_trainable template here; set prompt.template to "chat_trainable" to keep them.',
      });
    } else {
      if (typeof systemTokens === 'number') prompt.trainable_system_tokens = systemTokens;
      if (typeof lightconeTokens === 'number') prompt.trainable_lightcone_tokens = lightconeTokens;
    }
  }

  // Connectors and head.
  const lc = connector(take('lc_connector'));
  if (lc) connectors.lightcone = lc;
  if (resolvedTask === 'generation') {
    const parameters = connector(take('parameter_connector'));
    if (parameters) connectors.parameters = parameters;
    const tIndex = connector(take('t_index_connector'));
    connectors.t_index = { enabled: true, ...(tIndex ?? {}) };
    const cfm = take('cfm_connector');
    const patch = isNumberArray(paper.patch_size) ? paper.patch_size : [1, 14, 14];
    const cnn = isObject(cfm) ? { ...cfm, ...(isObject(cfm.cnn_config) ? cfm.cnn_config : {}) } : {};
    if (isObject(cfm) && cfm.cls === 'mlp') {
      unmapped.push({
        key: 'cfm_connector',
        value: cfm,
        reason: 'the MLP velocity network is not implemented; the CNN head is used.',
      });
    }
    const condDim = typeof cnn.cond_dim === 'number' ? cnn.cond_dim : 392;
    config.head = {
      kind: 'cfm',
      ...(typeof cnn.chs === 'number' ? { channels: cnn.chs } : {}),
      ...(typeof cnn.depth === 'number' ? { blocks: cnn.depth } : {}),
      ...(typeof cnn.kernel_size === 'number' ? { kernel_size: cnn.kernel_size } : {}),
      ...(typeof cnn.residual_chs_factor === 'number' ? { residual_factor: cnn.residual_chs_factor } : {}),
      cond_channels: Math.max(1, Math.round(condDim / ((patch[1] ?? 14) * (patch[2] ?? 14)))),
      // The reference integrates with torchdiffeq's dopri5, rtol = atol = 1e-3 (docs/paper-mapping.md#sampling).
      solver: 'dopri5',
      rtol: 1e-3,
      atol: 1e-3,
    };
  } else {
    const head = take('head');
    const mlp = isObject(head) && head.cls === 'mlp' ? (isObject(head.mlp_config) ? head.mlp_config : {}) : undefined;
    config.head = {
      kind: 'gaussian',
      ...(mlp
        ? {
            mlp_depth: 1 + (typeof mlp.depth === 'number' ? mlp.depth : 0),
            ...(typeof mlp.interm_dim === 'number' ? { mlp_width: mlp.interm_dim } : {}),
          }
        : {}),
    };
    for (const key of ['parameter_connector', 't_index_connector', 'cfm_connector'])
      drop(key, 'a generation setting in a regression config.');
  }

  // Data.
  const dir = take('DATASET_DIR');
  data.source = 'files';
  const realDir = typeof dir === 'string' && dir !== '' && dir !== 'placeholder';
  data.files = { format: 'npz', ...(realDir ? { path: dir } : {}) };
  if (!realDir && dir !== undefined)
    unmapped.push({
      key: 'DATASET_DIR',
      value: dir,
      reason:
        'not a data path; data.files.path keeps its default (data/ beside the config). Set it to the folder of .npz lightcones.',
    });
  const shape = take('lc_shape');
  if (Array.isArray(shape) && typeof shape[1] === 'number') data.files.transverse_cells = shape[1];
  const ratio = take('train_eval_ratio');
  if (typeof ratio === 'number' && ratio > 0 && ratio < 1)
    data.splits = { validation_fraction: Math.round((1 - ratio) * 1e6) / 1e6, seed: 42 };
  drop(
    'test_ds_size',
    'the test set is a count in the reference and a fraction here; set data.splits.test_fraction to test_ds_size / number of lightcones.',
  );
  drop(
    'ds_ratio',
    'using a fraction of the dataset is not supported; point data.files.path at a folder with the subset.',
  );
  const preprocess = take('preprocess');
  if (preprocess === 'Normalize') Object.assign(preprocessing, { slice_transform: 'none', standardize: true });
  else if (preprocess === 'NormalizeLog')
    Object.assign(preprocessing, { slice_transform: 'sgn_log1p', standardize: true });
  else if (preprocess === null || preprocess === undefined)
    Object.assign(preprocessing, { slice_transform: 'none', standardize: false });
  else
    unmapped.push({
      key: 'preprocess',
      value: preprocess,
      reason: 'unknown transform; the reference knows Normalize and NormalizeLog.',
    });
  const patch = take('patch_size');
  if (Array.isArray(patch) && patch.length === 3 && patch.every((n) => typeof n === 'number')) {
    if (resolvedTask === 'regression') {
      Object.assign(preprocessing, { tokens: 'patch_mean', patch_mean_shape: patch });
    } else {
      data.patch_size = patch[1];
      if (patch[0] !== 1 || patch[1] !== patch[2])
        unmapped.push({
          key: 'patch_size',
          value: patch,
          reason: `generation patches are square and one slice thick here; ${patch[1]} × ${patch[1]} is used.`,
        });
    }
  }
  if (resolvedTask === 'generation') {
    const tInit = take('t_init');
    const tMax = take('t_max');
    data.sublightcone = {
      ...(typeof tMax === 'number' ? { length: tMax } : {}),
      ...(typeof tInit === 'number' ? { context: tInit } : {}),
    };
    drop(
      'chunked_sublc_size',
      'windows are drawn from the whole lightcone with data.sublightcone.stride, not from stored chunks.',
    );
    data.augmentation = { rotations: true, reflections: true, translations: true };
  }
  if (Object.keys(preprocessing).length > 0) data.preprocessing = preprocessing;

  // Training.
  for (const [from, to] of [
    ['batch_size', 'batch_size'],
    ['gradient_accumulation_steps', 'gradient_accumulation_steps'],
    ['lr', 'lr'],
    ['train_ds_multiplicity', 'train_ds_multiplicity'],
    ['weight_decay', 'weight_decay'],
  ] as const) {
    const value = take(from);
    if (typeof value === 'number') training[to] = value;
  }
  const epochs = take('num_train_epochs');
  if (typeof epochs === 'number') training.epochs = epochs;
  const warmup = take('warmup_epochs');
  const decay = take('decay_epochs');
  training.schedule = {
    warmup: typeof warmup === 'number' ? warmup : 0,
    stable: null,
    decay: typeof decay === 'number' ? decay : 0,
  };
  const clip = take('max_grad_norm');
  if (typeof clip === 'number') training.max_grad_norm = clip > 0 ? clip : 0;
  if (resolvedTask === 'regression') {
    training.weight_decay = 0; // hard-coded in the reference regression script
    training.interleaved = !fromScratch; // train_interleaved = not train_from_scratch
  }
  const keep = take('max_num_checkpoints');
  if (typeof keep === 'number' && keep > 0) training.keep_checkpoints = keep;
  else if (keep !== undefined)
    unmapped.push({
      key: 'max_num_checkpoints',
      value: keep,
      reason: 'unlimited checkpoints are not supported; training.keep_checkpoints bounds them (default 2).',
    });
  drop('number_of_runs', 'one config is one run here; start it several times with different training.seed values.');

  // Evaluation (generation).
  const evalMap = [
    ['eval_batch_size', 'batch_size'],
    ['eval_l2_lcs', 'next_patch_lightcones'],
    ['eval_generation_lcs', 'generated_lightcones'],
    ['eval_l2_samples', 'cfm_samples_per_patch'],
  ] as const;
  for (const [from, to] of evalMap) {
    const value = take(from);
    if (typeof value === 'number' && value >= 0) evaluation[to] = value;
    else if (value !== undefined)
      unmapped.push({ key: from, value, reason: '-1 ("all test lightcones") has no counterpart; give a number.' });
  }
  const evalInit = take('eval_t_init');
  const evalMax = take('eval_t_max');
  if (typeof evalInit === 'number') evaluation.generation_context_slices = evalInit;
  if (typeof evalMax === 'number' && typeof evalInit === 'number' && evalMax > evalInit)
    evaluation.generation_slices = evalMax - evalInit;
  else if (typeof evalMax === 'number')
    unmapped.push({
      key: 'eval_t_max',
      value: evalMax,
      reason: `must exceed eval_t_init (${String(evalInit)}); the reference would fail its own assertion.`,
    });

  for (const [key, reason] of Object.entries(executionOnly)) drop(key, reason);
  for (const key of unreadByReference)
    drop(key, 'no reference code reads it: the behaviour is hard-coded there and follows from the other fields here.');
  for (const key of Object.keys(paper)) {
    if (!used.has(key))
      unmapped.push({
        key,
        value: paper[key],
        reason: 'not a field of the reference configs either (ExpConfig ignores unknown keys).',
      });
  }

  // Keys in the schema's order, so that the file reads like the hand-written examples.
  const ordered: ExperimentConfig = {
    name: config.name,
    task: config.task,
    backbone,
    prompt,
    connectors,
    head: config.head,
    data,
    training,
    ...(Object.keys(evaluation).length > 0 ? { evaluation } : {}),
  };
  return { task: resolvedTask, config: ordered, unmapped };
}
