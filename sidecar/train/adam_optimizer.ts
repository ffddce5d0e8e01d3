// Adam and AdamW over tf.Variables, written out rather than taken from tf.train.adam because the
// trainer needs three things tf.train does not give: per-group learning-rate ratios and weight-decay
// exclusions, decoupled weight decay (AdamW, Loshchilov & Hutter 2019, as torch.optim.AdamW), and a
// state that can be saved into a checkpoint and restored exactly, so that a resumed run continues
// with the same numbers as an uninterrupted one.
//
// The update follows torch.optim.AdamW (the reference code's optimizer, betas (0.9, 0.999), eps 1e-8):
//   p ← p − lr·wd·p                              (AdamW only; Adam adds wd·p to the gradient instead)
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//   p ← p − (lr / (1−β1^t)) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
import * as tf from '@tensorflow/tfjs';
import { checkGroupsDisjoint, defaultNoDecay, groupVariables, type ParameterGroup } from './parameter_group';

export interface AdamOptions {
  kind: 'adam' | 'adamw';
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** The optimizer state as plain data: tensors by name plus the step count. */
export interface OptimizerState {
  step: number;
  /** `<variable name>/m` and `<variable name>/v` for every variable that has been updated. */
  tensors: Map<string, tf.Tensor>;
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamOptimizer {
  readonly kind: 'adam' | 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly groups: readonly ParameterGroup[];
  /** Number of updates applied so far (t in the bias corrections). */
  step = 0;
  private readonly moments = new Map<string, Moments>();

  constructor(groups: readonly ParameterGroup[], options: AdamOptions) {
    checkGroupsDisjoint(groups);
    this.kind = options.kind;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    for (const [name, value] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(value >= 0 && value < 1)) throw new Error(`Adam ${name} must be in [0, 1), got ${value}.`);
    }
    if (!(this.epsilon > 0)) throw new Error(`Adam epsilon must be > 0, got ${this.epsilon}.`);
    this.groups = groups;
  }

  /** The variables this optimizer changes (groups with a ratio above 0), in group order. */
  updatedVariables(): tf.Variable[] {
    return groupVariables(this.groups.filter((g) => g.lrRatio > 0));
  }

  /**
   * Applies one update with base learning rate `lr` (already scheduled). `gradients` maps variable
   * names to gradients; a variable without a gradient is left alone (its moments do not advance),
   * which is what PyTorch does for a parameter whose .grad is None.
   */
  apply(gradients: Readonly<Record<string, tf.Tensor>>, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`Learning rate must be a finite number ≥ 0, got ${lr}.`);
    this.step += 1;
    const biasCorrection1 = 1 - this.beta1 ** this.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - this.beta2 ** this.step);
    for (const group of this.groups) {
      if (group.lrRatio === 0) continue;
      const groupLr = lr * group.lrRatio;
      const noDecay = group.noDecay ?? defaultNoDecay;
      for (const [key, variable] of group.weights) {
        const gradient = gradients[variable.name];
        if (gradient === undefined) continue;
        const decay = noDecay(key) ? 0 : group.weightDecay;
        const moments = this.momentsOf(variable);
        tf.tidy(() => {
          let g = gradient;
          let p: tf.Tensor = variable;
          if (decay > 0 && this.kind === 'adam') g = tf.add(g, tf.mul(variable, decay));
          if (decay > 0 && this.kind === 'adamw') p = tf.mul(variable, 1 - groupLr * decay);
          const m = tf.add(tf.mul(moments.m, this.beta1), tf.mul(g, 1 - this.beta1));
          const v = tf.add(tf.mul(moments.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
          const denominator = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), this.epsilon);
          const update = tf.mul(tf.div(m, denominator), groupLr / biasCorrection1);
          moments.m.assign(m);
          moments.v.assign(v);
          variable.assign(tf.sub(p, update));
        });
      }
    }
  }

  /** A copy of the state, for a checkpoint. The caller disposes the tensors. */
  getState(): OptimizerState {
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, moments] of this.moments) {
      tensors.set(`${name}/m`, moments.m.clone());
      tensors.set(`${name}/v`, moments.v.clone());
    }
    return { step: this.step, tensors };
  }

  /** Restores a state written by getState (values are copied; the caller keeps ownership). */
  setState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`Optimizer state step must be an integer ≥ 0, got ${state.step}.`);
    const known = new Map(this.updatedVariables().map((v) => [v.name, v]));
    for (const key of state.tensors.keys()) {
      const variableName = key.replace(/\/[mv]$/, '');
      if (!known.has(variableName)) {
        throw new Error(
          `Optimizer state holds "${key}" but no trained variable is named "${variableName}"; the checkpoint belongs to another model or parameter grouping.`,
        );
      }
    }
    this.disposeMoments();
    for (const [name, variable] of known) {
      const m = state.tensors.get(`${name}/m`);
      const v = state.tensors.get(`${name}/v`);
      if (m === undefined && v === undefined) continue;
      if (m === undefined || v === undefined)
        throw new Error(`Optimizer state for "${name}" has only one of its two moments; the checkpoint is incomplete.`);
      for (const [which, tensor] of [
        ['m', m],
        ['v', v],
      ] as const) {
        if (!tf.util.arraysEqual(tensor.shape, variable.shape)) {
          throw new Error(
            `Optimizer state "${name}/${which}" has shape [${tensor.shape.join(',')}] but the variable has [${variable.shape.join(',')}].`,
          );
        }
      }
      // tf.variable shares the data of its initial tensor; creating it inside tidy releases the
      // temporary handle so that no tensor is leaked.
      this.moments.set(
        name,
        tf.tidy(() => ({ m: tf.variable(m.clone(), false), v: tf.variable(v.clone(), false) })),
      );
    }
    this.step = state.step;
  }

  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const moments of this.moments.values()) {
      moments.m.dispose();
      moments.v.dispose();
    }
    this.moments.clear();
  }

  private momentsOf(variable: tf.Variable): Moments {
    let moments = this.moments.get(variable.name);
    if (moments === undefined) {
      moments = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      this.moments.set(variable.name, moments);
    }
    return moments;
  }
}
