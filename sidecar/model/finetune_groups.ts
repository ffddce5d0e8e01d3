// Which variables train in each finetune mode (paper Sec. 3, docs/paper-mapping.md#finetuning), grouped by name so the
// trainer can give each group its own learning-rate ratio:
//   frozen: nothing of the backbone;  lora: adapters + every norm scale;
//   full: every backbone weight except the token embedding (as the reference, whose Qwen2Model has no head;
//         a separate lm_head trains here);  scratch: everything, for randomly initialised reference networks.
// Special tokens (prompt tuning) are their own group in every mode when given.
import type * as tf from '@tensorflow/tfjs';
import type { Qwen2Model } from './qwen2_model';
import type { SpecialTokens } from './special_tokens';

export const finetuneModes = ['frozen', 'lora', 'full', 'scratch'] as const;
export type FinetuneMode = (typeof finetuneModes)[number];

export type ParameterGroupName = 'lora' | 'norms' | 'backbone' | 'embeddings' | 'specialTokens';

export interface ParameterGroup {
  group: ParameterGroupName;
  /** Variables with their checkpoint keys. */
  variables: { name: string; variable: tf.Variable }[];
}

function group(name: ParameterGroupName, entries: [string, tf.Variable][]): ParameterGroup {
  return { group: name, variables: entries.map(([key, variable]) => ({ name: key, variable })) };
}

/** The trainable variables of a mode, by group; empty groups are left out. */
export function trainableVariables(
  model: Qwen2Model,
  mode: FinetuneMode,
  specialTokens?: SpecialTokens,
): ParameterGroup[] {
  const groups: ParameterGroup[] = [];
  const norms = new Set(model.namedNormWeights().map(([key]) => key));
  const backboneWithoutNorms = model
    .namedWeights()
    .filter(([key]) => !norms.has(key) && key !== 'model.embed_tokens.weight');
  switch (mode) {
    case 'frozen':
      break;
    case 'lora':
      if (!model.hasLora) {
        throw new Error(
          'Finetune mode "lora": the model has no LoRA adapters; call addLora({ rank }) first or choose another mode.',
        );
      }
      groups.push(group('lora', model.namedLoraWeights()), group('norms', model.namedNormWeights()));
      break;
    case 'full':
    case 'scratch':
      groups.push(group('backbone', backboneWithoutNorms), group('norms', model.namedNormWeights()));
      if (mode === 'scratch') groups.push(group('embeddings', [['model.embed_tokens.weight', model.embedTokens]]));
      if (model.hasLora) groups.push(group('lora', model.namedLoraWeights()));
      break;
    default:
      throw new Error(`Unknown finetune mode "${String(mode)}"; choose from ${finetuneModes.join(', ')}.`);
  }
  if (specialTokens && specialTokens.names.length > 0)
    groups.push(group('specialTokens', specialTokens.namedWeights()));
  return groups.filter((g) => g.variables.length > 0);
}

/** All variables of the groups, flat (for tf.variableGrads / optimizer.minimize var lists). */
export function flattenGroups(groups: readonly ParameterGroup[]): tf.Variable[] {
  return groups.flatMap((g) => g.variables.map((v) => v.variable));
}
