// A tiny regression workspace for the training tests: synthetic lightcones written as .npy [x, y, t]
// with their parameter JSON (the data module's npy folder format), whose global signal depends
// smoothly on the parameters so that a small model can learn them, and a config that trains a
// 1-block random backbone on them in seconds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../../sidecar/data/npy';
import { denormalizeParams, parameterNames } from '../../sidecar/data/parameters';
import { mulberry32 } from '../../sidecar/train/seeded_random';

export interface FixtureOptions {
  lightcones?: number;
  slices?: number;
  seed?: number;
}

/** Writes `lightcones` cones into <workspace>/data and returns the folder. */
export function writeSyntheticLightcones(workspace: string, options: FixtureOptions = {}): string {
  const count = options.lightcones ?? 40;
  const nt = options.slices ?? 64;
  const n = 4;
  const random = mulberry32(options.seed ?? 7);
  const folder = join(workspace, 'data');
  mkdirSync(folder, { recursive: true });
  for (let c = 0; c < count; c++) {
    const y = Array.from({ length: 6 }, () => 0.02 + 0.96 * random());
    const image = new Float32Array(n * n * nt);
    for (let k = 0; k < nt; k++) {
      // A "global signal" whose depth, timing and width depend on the parameters, plus voxel noise.
      const t = k / nt;
      const signal =
        -20 * (0.5 + y[1]) * Math.exp(-(((t - 0.3 - 0.4 * y[4]) / (0.08 + 0.1 * y[5])) ** 2)) +
        10 * y[0] * t +
        5 * y[2] * Math.sin(6 * t) +
        3 * y[3] * t * t;
      for (let ij = 0; ij < n * n; ij++) image[ij * nt + k] = signal + 0.5 * (random() - 0.5);
    }
    const name = `cone-${String(c).padStart(3, '0')}`;
    writeFileSync(join(folder, `${name}.npy`), writeNpy(image, [n, n, nt]));
    writeFileSync(
      join(folder, `${name}.json`),
      JSON.stringify(Object.fromEntries(parameterNames.map((p, i) => [p, denormalizeParams(y)[p] ?? i]))),
    );
  }
  return folder;
}

/** A config for the synthetic data; `overrides.training` etc. are merged into the sections. */
export function tinyConfig(overrides: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const base: Record<string, Record<string, unknown>> = {
    backbone: {
      source: 'random',
      finetune: 'frozen',
      causal: false,
      architecture: {
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        intermediate_size: 32,
        vocab_size: 16,
        max_position_embeddings: 256,
      },
    },
    prompt: { template: 'minimal' },
    data: {
      source: 'files',
      files: { format: 'npy', path: 'data' },
      splits: { validation_fraction: 0.2, test_fraction: 0.2, seed: 1 },
      preprocessing: { global_signal_tokens: 8 },
    },
    training: {
      batch_size: 4,
      unit: 'steps',
      steps: 40,
      lr: 0.01,
      schedule: { warmup: 2, decay: 10 },
      checkpoint_every: 10,
      seed: 3,
    },
    evaluation: { every: 20, regression_samples: 20, batch_size: 8 },
    runtime: { backend: 'cpu' },
  };
  const merged: Record<string, unknown> = { name: 'tiny', task: 'regression' };
  for (const key of new Set([...Object.keys(base), ...Object.keys(overrides)]))
    merged[key] = { ...base[key], ...overrides[key] };
  return merged;
}

/** Writes a workspace (a .vscode folder marks it) with data and tiny.l3m.json; returns the config path. */
export function writeTinyWorkspace(
  workspace: string,
  overrides: Record<string, Record<string, unknown>> = {},
  fixture: FixtureOptions = {},
): string {
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeSyntheticLightcones(workspace, fixture);
  const path = join(workspace, 'tiny.l3m.json');
  writeFileSync(path, JSON.stringify(tinyConfig(overrides), null, 2) + '\n');
  return path;
}

/**
 * A tiny byte-level BPE tokenizer.json in Qwen's layout whose merges build exactly `words`, with
 * Ġ (space), Ċ (newline) and the ChatML special tokens: enough for the chat templates' ids.
 */
export function tinyTokenizerJson(words: string[]): object {
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  const add = (token: string) => {
    if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
  };
  for (const word of words) for (const ch of word) add(ch);
  add('Ġ');
  add('Ċ');
  for (const word of words) {
    for (let i = 2; i <= word.length; i++) {
      const merge = `${word.slice(0, i - 1)} ${word[i - 1]}`;
      if (!merges.includes(merge)) merges.push(merge);
      add(word.slice(0, i));
    }
  }
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const next = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [special('<|endoftext|>', next), special('<|im_start|>', next + 1), special('<|im_end|>', next + 2)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** The model sections of a tiny generation config: a one-block backbone and a one-block velocity CNN with a two-step Euler solver. */
export function tinyGenerationModel(): Record<string, unknown> {
  return {
    backbone: {
      source: 'random',
      finetune: 'full',
      causal: true,
      architecture: {
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        intermediate_size: 32,
        vocab_size: 16,
        max_position_embeddings: 256,
        tie_word_embeddings: true,
      },
    },
    prompt: { template: 'minimal' },
    connectors: { lightcone: { kind: 'linear' }, parameters: { kind: 'linear' }, t_index: { enabled: true } },
    head: { kind: 'cfm', channels: 4, blocks: 1, kernel_size: 3, cond_channels: 1, solver: 'euler', steps: 2 },
  };
}

/**
 * The data section of a tiny generation config on the synthetic lightcones of writeSyntheticLightcones
 * (4 transverse cells, so 2×2 patches and windows of 6 slices fit the tiny backbone's 256 positions).
 */
export function tinyGenerationData(): Record<string, unknown> {
  return {
    source: 'files',
    files: { format: 'npy', path: 'data', transverse_cells: 4 },
    splits: { validation_fraction: 0.2, test_fraction: 0.2, seed: 1 },
    preprocessing: { slice_transform: 'sgn_log1p', standardize: true, trim: false },
    patch_size: 2,
    sublightcone: { length: 6, context: 2, stride: 8 },
    augmentation: { rotations: false, reflections: false, translations: false },
  };
}
