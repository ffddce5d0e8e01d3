// The shape of the backbone a config will train: its `backbone.architecture` for a random
// backbone, or the checkpoint's own config.json for a pretrained one (when it can be read here).
// The semantic checks and the parameter estimates both need it. HF config.json keys are the same
// names as the schema's architecture keys, so no renaming is needed.
import { isAbsolute, join, dirname, resolve } from 'node:path';
import type { ConfigContext } from './config_context';
import { isRecord } from './json_value';

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

const shapeKeys = [
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'intermediate_size',
  'max_position_embeddings',
  'vocab_size',
] as const;

/** Resolves a path written in the config against the config file's folder. */
export function resolveConfigPath(configPath: string, written: string): string {
  return isAbsolute(written) ? written : resolve(dirname(configPath), written);
}

function hasPositiveIntegerShape(
  source: Record<string, unknown>,
): source is Record<string, unknown> & Omit<BackboneShape, 'origin'> {
  return shapeKeys.every((key) => {
    const value = source[key];
    return typeof value === 'number' && Number.isInteger(value) && value >= 1;
  });
}

function positiveIntegers(source: Record<string, unknown>): Omit<BackboneShape, 'origin'> | undefined {
  if (!hasPositiveIntegerShape(source)) return undefined;
  const {
    hidden_size,
    num_hidden_layers,
    num_attention_heads,
    num_key_value_heads,
    intermediate_size,
    max_position_embeddings,
    vocab_size,
  } = source;
  return {
    hidden_size,
    num_hidden_layers,
    num_attention_heads,
    num_key_value_heads,
    intermediate_size,
    max_position_embeddings,
    vocab_size,
  };
}

/**
 * The backbone shape of a (resolved, possibly ill-typed) config, or undefined when it cannot be
 * known: a pretrained checkpoint that is not here, or fields with the wrong type (the schema
 * diagnostics report those).
 */
export function backboneShape(
  config: unknown,
  context?: Pick<ConfigContext, 'configPath' | 'fileSystem'>,
): BackboneShape | undefined {
  const backbone = isRecord(config) ? config.backbone : undefined;
  if (!isRecord(backbone)) return undefined;
  if (backbone.source === 'pretrained') {
    if (!context?.fileSystem.readText || typeof backbone.path !== 'string') return undefined;
    const text = context.fileSystem.readText(join(resolveConfigPath(context.configPath, backbone.path), 'config.json'));
    if (text === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isRecord(parsed)) return undefined;
      // Older HF configs omit num_key_value_heads, which then equals num_attention_heads.
      const withDefaults = {
        num_key_value_heads: parsed.num_attention_heads,
        max_position_embeddings: 32768,
        ...parsed,
      };
      const shape = positiveIntegers(withDefaults);
      return shape && { ...shape, origin: 'checkpoint' };
    } catch {
      return undefined;
    }
  }
  const architecture = backbone.architecture;
  if (!isRecord(architecture)) return undefined;
  const shape = positiveIntegers(architecture);
  return shape && { ...shape, origin: 'architecture' };
}
