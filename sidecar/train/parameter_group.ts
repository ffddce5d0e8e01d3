// Parameter groups: the unit at which the trainer applies learning-rate ratios, weight decay and
// interleaved updates. The paper's regression trains the input connector and the special tokens
// with one optimizer and the output head with another (docs/paper-mapping.md#regression); the generation
// task gives every group a ratio of 1. Naming the groups lets a config say `lr_ratios: { head: 0.5 }`
// without the trainer knowing what a head is.
import type * as tf from '@tensorflow/tfjs';

/** A weight by its checkpoint key (HF keys for the backbone, peft keys for LoRA, `<module>.weight`/`.bias` for connectors and head). */
export type NamedWeight = readonly [key: string, variable: tf.Variable];

export interface ParameterGroup {
  /** Group name, e.g. 'input_connector', 'special_tokens', 'head', 'backbone'. */
  name: string;
  /** Weights with their checkpoint keys, in a fixed order (the order is part of the checkpoint layout). */
  weights: readonly NamedWeight[];
  /** Multiplies the scheduled learning rate for this group (0 freezes it in this optimizer). */
  lrRatio: number;
  /** Decoupled (AdamW) weight decay; 0 for Adam. */
  weightDecay: number;
  /**
   * Weights whose checkpoint key matches are exempt from weight decay. The test goes by the key because
   * TF.js names variables with generated ids ("0", "1", …) that say nothing about what a weight is.
   * Defaults to `defaultNoDecay`.
   */
  noDecay?: (key: string) => boolean;
}

/** The default decay exemption, by checkpoint key: biases, norm scales, special tokens and the token embedding. */
export function defaultNoDecay(key: string): boolean {
  return /\.bias$|norm\.weight$|^special_tokens\.|embed_tokens\.weight$/.test(key);
}

/**
 * The paper code's exemption for generation (generation/training_utils.py `create_optimizer_groups`):
 * only parameters named "bias" escape decay; norm scales and LoRA adapters decay.
 */
export function biasNoDecay(key: string): boolean {
  return key.endsWith('.bias');
}

/** The variables of a list of groups, in group order. */
export function groupVariables(groups: readonly ParameterGroup[]): tf.Variable[] {
  return groups.flatMap((group) => group.weights.map(([, variable]) => variable));
}

/** Number of scalar parameters in a list of groups. */
export function countParameters(groups: readonly ParameterGroup[]): number {
  let total = 0;
  for (const variable of groupVariables(groups)) total += variable.size;
  return total;
}

/**
 * Throws a clear error when two groups share a variable or a name, which would double-update it, or
 * when two variables share a checkpoint key, which would make the decay exemption ambiguous.
 */
export function checkGroupsDisjoint(groups: readonly ParameterGroup[]): void {
  const seenNames = new Set<string>();
  const seenVariables = new Map<string, string>();
  const seenKeys = new Map<string, string>();
  for (const group of groups) {
    if (seenNames.has(group.name))
      throw new Error(`Parameter group "${group.name}" is defined twice; give each group a unique name.`);
    seenNames.add(group.name);
    if (!(group.lrRatio >= 0) || !Number.isFinite(group.lrRatio)) {
      throw new Error(
        `Parameter group "${group.name}" has learning-rate ratio ${group.lrRatio}; use a finite number ≥ 0.`,
      );
    }
    for (const [key, variable] of group.weights) {
      const other = seenVariables.get(variable.name);
      if (other !== undefined) {
        throw new Error(
          `Weight "${key}" (variable ${variable.name}) is in both parameter groups "${other}" and "${group.name}"; a variable may belong to one group only.`,
        );
      }
      seenVariables.set(variable.name, group.name);
      const keyOwner = seenKeys.get(key);
      if (keyOwner !== undefined) {
        throw new Error(
          `Checkpoint key "${key}" names two variables (in parameter groups "${keyOwner}" and "${group.name}"); each weight needs its own key.`,
        );
      }
      seenKeys.set(key, group.name);
    }
  }
}
