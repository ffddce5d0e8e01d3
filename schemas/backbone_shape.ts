// The shape of the backbone a config will train: its `backbone.architecture` for a random
// backbone, or the checkpoint's own config.json for a pretrained one (when it can be read here).
// The semantic checks and the parameter estimates both need it. HF config.json keys are the same
// names as the schema's architecture keys, so no renaming is needed.
import { isAbsolute, join, dirname, resolve } from 'node:path';
import type { ConfigContext } from './config_context';

export interface BackboneShape {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  vocab_size: number;
  /** Where the numbers came from, for messages: the config's architecture or a checkpoint's config.json. */
  origin: 'architecture' | 'checkpoint';
}

const shapeKeys = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
  'intermediate_size', 'max_position_embeddings', 'vocab_size'] as const;

/** Resolves a path written in the config against the config file's folder. */
export function resolveConfigPath(configPath: string, written: string): string {
  return isAbsolute(written) ? written : resolve(dirname(configPath), written);
}

function positiveIntegers(source: Record<string, unknown>): Omit<BackboneShape, 'origin'> | undefined {
  const out: Record<string, number> = {};
  for (const key of shapeKeys) {
    const value = source[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return undefined;
    out[key] = value;
  }
  return out as unknown as Omit<BackboneShape, 'origin'>;
}

/**
 * The backbone shape of a (resolved, possibly ill-typed) config, or undefined when it cannot be
 * known: a pretrained checkpoint that is not here, or fields with the wrong type (the schema
 * diagnostics report those).
 */
export function backboneShape(config: unknown, context?: Pick<ConfigContext, 'configPath' | 'fileSystem'>): BackboneShape | undefined {
  const backbone = (config as { backbone?: Record<string, unknown> } | undefined)?.backbone;
  if (typeof backbone !== 'object' || backbone === null) return undefined;
  if (backbone.source === 'pretrained') {
    if (!context?.fileSystem.readText || typeof backbone.path !== 'string') return undefined;
    const text = context.fileSystem.readText(join(resolveConfigPath(context.configPath, backbone.path), 'config.json'));
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      // Older HF configs omit num_key_value_heads, which then equals num_attention_heads.
      const withDefaults = { num_key_value_heads: parsed.num_attention_heads, max_position_embeddings: 32768, ...parsed };
      const shape = positiveIntegers(withDefaults);
      return shape && { ...shape, origin: 'checkpoint' };
    } catch {
      return undefined;
    }
  }
  const architecture = backbone.architecture;
  if (typeof architecture !== 'object' || architecture === null) return undefined;
  const shape = positiveIntegers(architecture as Record<string, unknown>);
  return shape && { ...shape, origin: 'architecture' };
}
