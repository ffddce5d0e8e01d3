// Parameter groups: the unit at which the trainer applies learning-rate ratios, weight decay and
// interleaved updates. The paper's regression trains the input connector and the special tokens
// with one optimizer and the output head with another (L3M-REFERENCE.md §3.2, §2d); the generation
// task gives every group a ratio of 1. Naming the groups lets a config say `lr_ratios: { head: 0.5 }`
// without the trainer knowing what a head is.
import type * as tf from '@tensorflow/tfjs';

export interface ParameterGroup {
  /** Group name, e.g. 'input_connector', 'special_tokens', 'head', 'backbone'. */
  name: string;
  /** Variables in a fixed order (the order is part of the checkpoint layout). */
  variables: tf.Variable[];
  /** Multiplies the scheduled learning rate for this group (0 freezes it in this optimizer). */
  lrRatio: number;
  /** Decoupled (AdamW) weight decay; 0 for Adam. */
  weightDecay: number;
  /**
   * Variables whose name matches are exempt from weight decay (the reference exempts every bias,
   * L3M-REFERENCE.md §2d "generation LR ratios"). Norm scales and token embeddings are usually
   * listed here too.
   */
  noDecay?: (variableName: string) => boolean;
}

/** The default decay exemption: biases, norm scales and embedding-like vectors. */
export function defaultNoDecay(variableName: string): boolean {
  return /bias|norm|layernorm|token|embed/i.test(variableName);
}

/** Number of scalar parameters in a list of groups. */
export function countParameters(groups: readonly ParameterGroup[]): number {
  let total = 0;
  for (const group of groups) for (const variable of group.variables) total += variable.size;
  return total;
}

/** Throws a clear error when two groups share a variable or a name, which would double-update it. */
export function checkGroupsDisjoint(groups: readonly ParameterGroup[]): void {
  const seenNames = new Set<string>();
  const seenVariables = new Map<string, string>();
  for (const group of groups) {
    if (seenNames.has(group.name)) throw new Error(`Parameter group "${group.name}" is defined twice; give each group a unique name.`);
    seenNames.add(group.name);
    if (!(group.lrRatio >= 0) || !Number.isFinite(group.lrRatio)) {
      throw new Error(`Parameter group "${group.name}" has learning-rate ratio ${group.lrRatio}; use a finite number ≥ 0.`);
    }
    for (const variable of group.variables) {
      const other = seenVariables.get(variable.name);
      if (other !== undefined) {
        throw new Error(`Variable "${variable.name}" is in both parameter groups "${other}" and "${group.name}"; a variable may belong to one group only.`);
      }
      seenVariables.set(variable.name, group.name);
    }
  }
}
