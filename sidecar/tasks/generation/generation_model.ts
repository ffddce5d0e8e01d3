// The generation model of the paper's Sec. 5 (reference generation/network/modeling.py `L3MGenerator`,
// docs/paper-mapping.md#generation): connectors map the six parameters (one map each), the window's start
// slice (t-index connector) and every p×p patch (Linear p² → H) into the backbone's hidden space;
// the prompt (generation_prompt.ts) and the patch/newline layout (tokenization.ts) place them in one
// causal sequence; the hidden state (after the final RMSNorm) at the token before each patch goes
// through the output connector (H → cond_channels·p²) into the CFM head's velocity CNN, trained with
// the loss of Eq. 41 on every patch of the non-context slices.
// With head.previous_slice_residual (not in the paper) the condition also carries the same patch of
// the previous slice as one more channel, and the flow models the change from that patch: the hidden
// state of a small backbone cannot hold a patch's pixels, while the velocity CNN sees them directly,
// and an untrained head starts from the previous-slice forecast instead of from noise.
import * as tf from '@tensorflow/tfjs';
import type { Qwen2Model } from '../../model/qwen2_model';
import type { KvCache } from '../../model/kv_cache';
import { SpecialTokens } from '../../model/special_tokens';
import { trainableVariables, type FinetuneMode } from '../../model/finetune_groups';
import { tokensPerSlice } from '../../data/tokenization';
import { biasNoDecay, type ParameterGroup } from '../../train/parameter_group';
import { Mlp, inputConnectorSizes, type ConnectorShape } from '../shared/connectors';
import { cfmLoss, drawCfmNoise } from './cfm_loss';
import { integrate, type OdeOptions } from './ode_solvers';
import {
  generationTrainableNames,
  lightconeStartName,
  prefixLength,
  rowSeparatorName,
  sliceSeparatorName,
  type GenerationSegment,
} from './generation_prompt';
import { VelocityCnn } from './velocity_cnn';
import { recomputedVelocity } from './recomputed_velocity';

export interface GenerationModelOptions {
  prompt: GenerationSegment[];
  patchSize: number;
  /** Patches per slice along x and y. */
  rows: number;
  cols: number;
  lightconeConnector: ConnectorShape;
  parameterConnector: ConnectorShape;
  /** null when connectors.t_index.enabled is false. */
  timeStepConnector: ConnectorShape | null;
  head: {
    channels: number;
    blocks: number;
    residualFactor: number;
    kernelSize: number;
    condChannels: number;
    previousSliceResidual?: boolean;
  };
  finetune: FinetuneMode;
  /** LoRA mode: also train the norm scales (lora.train_norms). */
  trainNorms: boolean;
  seed: number;
  /** Recompute the blocks' and the velocity CNN's activations in the backward pass (training.recompute_activations). */
  recomputeActivations?: boolean;
}

/** Learning-rate ratios by the config's group names (training.lr_ratios). */
export interface GenerationLrRatios {
  lightcone_connector: number;
  parameter_connectors: number;
  special_tokens: number;
  head: number;
  backbone: number;
}

/** A batch of windows: patches (B, W, rows·cols, p²), parameters (B, 6) in [0, 1], time steps (B). */
export interface GenerationInputs {
  patches: tf.Tensor4D;
  params: tf.Tensor2D;
  timeSteps: tf.Tensor1D;
}

export interface GenerationForwardOptions {
  training: boolean;
  dropoutSeed?: number;
}

export class GenerationModel {
  readonly patchConnector: Mlp;
  readonly parameterConnectors: Mlp[];
  readonly timeStepConnector: Mlp | null;
  readonly outputConnector: Mlp;
  readonly cnn: VelocityCnn;
  readonly specialTokens: SpecialTokens;
  readonly prompt: GenerationSegment[];
  readonly patchSize: number;
  readonly rows: number;
  readonly cols: number;
  readonly finetune: FinetuneMode;
  private readonly recomputeActivations: boolean;
  /** head.previous_slice_residual: patches are modelled as the previous slice's patch plus a change. */
  readonly previousSliceResidual: boolean;
  private readonly condChannels: number;
  private readonly trainNorms: boolean;

  constructor(
    readonly backbone: Qwen2Model,
    options: GenerationModelOptions,
  ) {
    const hidden = backbone.config.hiddenSize;
    if (options.timeStepConnector === null && options.prompt.some((s) => s.kind === 'time_step')) {
      throw new Error(
        'Generation prompt has a <|time_step|> token but the t-index connector is disabled; enable connectors.t_index or drop the token.',
      );
    }
    this.prompt = options.prompt;
    this.patchSize = options.patchSize;
    this.rows = options.rows;
    this.cols = options.cols;
    this.finetune = options.finetune;
    this.trainNorms = options.trainNorms;
    this.recomputeActivations = options.recomputeActivations ?? false;
    this.previousSliceResidual = options.head.previousSliceResidual ?? false;
    this.condChannels = options.head.condChannels;
    const p2 = options.patchSize * options.patchSize;
    const s = options.seed * 16;
    const patchSizes = inputConnectorSizes(options.lightconeConnector, hidden);
    patchSizes[0] = p2;
    this.patchConnector = new Mlp('lightcone_connector', patchSizes, s + 1);
    this.parameterConnectors = Array.from(
      { length: 6 },
      (_, i) =>
        new Mlp(`parameter_connector.${i}`, inputConnectorSizes(options.parameterConnector, hidden), s + 2 + 7 * i),
    );
    this.timeStepConnector = options.timeStepConnector
      ? new Mlp('t_index_connector', inputConnectorSizes(options.timeStepConnector, hidden), s + 3)
      : null;
    this.outputConnector = new Mlp('cond_connector', [hidden, options.head.condChannels * p2], s + 4);
    this.cnn = new VelocityCnn({
      patchSize: options.patchSize,
      condChannels: options.head.condChannels + (this.previousSliceResidual ? 1 : 0),
      channels: options.head.channels,
      blocks: options.head.blocks,
      residualFactor: options.head.residualFactor,
      kernelSize: options.head.kernelSize,
      seed: s + 5,
    });
    this.specialTokens = new SpecialTokens(hidden, generationTrainableNames(options.prompt), s + 6);
  }

  get patchesPerSlice(): number {
    return this.rows * this.cols;
  }

  get tokensPerSlice(): number {
    return tokensPerSlice(this.rows, this.cols);
  }

  get prefixLength(): number {
    return prefixLength(this.prompt);
  }

  /** Longest window (in slices) the backbone's rotary tables were built for. */
  maxSlices(): number {
    return Math.floor((this.backbone.config.maxPositionEmbeddings - this.prefixLength) / this.tokensPerSlice);
  }

  /** The prompt prefix (B, P, H) for parameters (B, 6) and time steps (B). */
  prefixEmbeds(params: tf.Tensor2D, timeSteps: tf.Tensor1D): tf.Tensor3D {
    return tf.tidy(() => {
      const batch = params.shape[0];
      const hidden = this.backbone.config.hiddenSize;
      const parts = this.prompt.map((segment) => {
        switch (segment.kind) {
          case 'text':
            return tf.tile(this.backbone.embed(tf.tensor2d(segment.ids, [1, segment.ids.length], 'int32')), [
              batch,
              1,
              1,
            ]); // (B, n, H)
          case 'trainable':
            return tf.tile(tf.reshape(this.specialTokens.stack(segment.names), [1, segment.names.length, hidden]), [
              batch,
              1,
              1,
            ]); // (B, k, H)
          case 'parameter':
            return this.parameterConnectors[segment.index].apply(
              tf.reshape(tf.slice(params, [0, segment.index], [batch, 1]), [batch, 1, 1]),
            ); // (B, 1, H)
          case 'time_step':
            return this.timeStepConnector!.apply(tf.reshape(timeSteps, [batch, 1, 1])); // (B, 1, H)
        }
      });
      return tf.concat(parts, 1) as tf.Tensor3D; // (B, P, H)
    });
  }

  /** The lightcone tokens (B, W·tokensPerSlice, H) of patches (B, W, rows·cols, p²): [patch×cols, nl_1]×rows, nl_2 per slice. */
  lightconeEmbeds(patches: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      // Rank-3 pieces only: TF.js has no gradient for tiling rank-5 tensors.
      const [batch, slices] = patches.shape;
      const hidden = this.backbone.config.hiddenSize;
      const rowCount = batch * slices * this.rows;
      const embedded = tf.reshape(this.patchConnector.apply(patches), [rowCount, this.cols, hidden]); // (B·W·X, Y, H)
      const rowSeparator = tf.broadcastTo(tf.reshape(this.specialTokens.get(rowSeparatorName), [1, 1, hidden]), [
        rowCount,
        1,
        hidden,
      ]);
      const rowsWithSeparators = tf.reshape(tf.concat([embedded, rowSeparator], 1), [
        batch * slices,
        this.rows * (this.cols + 1),
        hidden,
      ]); // (B·W, X(Y+1), H)
      const sliceSeparator = tf.broadcastTo(tf.reshape(this.specialTokens.get(sliceSeparatorName), [1, 1, hidden]), [
        batch * slices,
        1,
        hidden,
      ]);
      return tf.reshape<tf.Rank.R3>(tf.concat([rowsWithSeparators, sliceSeparator], 1), [
        batch,
        slices * this.tokensPerSlice,
        hidden,
      ]);
    });
  }

  /** Embedding (B, n, H) of single tokens to append while sampling: a patch (B, p²) and/or separators. */
  stepEmbeds(patch: tf.Tensor2D | null, separators: readonly ('row' | 'slice')[], batch: number): tf.Tensor3D {
    return tf.tidy(() => {
      const hidden = this.backbone.config.hiddenSize;
      const parts: tf.Tensor[] = [];
      if (patch) parts.push(tf.reshape(this.patchConnector.apply(patch), [batch, 1, hidden]));
      for (const kind of separators) {
        const vector = this.specialTokens.get(kind === 'row' ? rowSeparatorName : sliceSeparatorName);
        parts.push(tf.broadcastTo(tf.reshape(vector, [1, 1, hidden]), [batch, 1, hidden]));
      }
      return tf.concat(parts, 1) as tf.Tensor3D;
    });
  }

  /** Backbone hidden states (B, P + W·tokensPerSlice, H) of a batch. */
  hidden(inputs: GenerationInputs, options: GenerationForwardOptions, cache?: KvCache): tf.Tensor3D {
    this.checkInputs(inputs);
    return tf.tidy(() => {
      const embeds = tf.concat<tf.Tensor3D>(
        [this.prefixEmbeds(inputs.params, inputs.timeSteps), this.lightconeEmbeds(inputs.patches)],
        1,
      );
      return this.backbone.forward({
        inputsEmbeds: embeds,
        training: options.training,
        dropoutSeed: options.dropoutSeed,
        cache,
        recomputeFor: this.recomputeActivations && !cache ? this.trainedVariableSet() : undefined,
      }).hidden;
    });
  }

  /**
   * The hidden state that predicts each patch of slices firstSlice … W−1: the state at the token just
   * before the patch (the previous patch, a separator, or <|lightcone-token|>). Returns (B·W'·X·Y, H),
   * ordered window, slice, row, column.
   */
  predictingHidden(hidden: tf.Tensor3D, slices: number, firstSlice: number): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, , width] = hidden.shape;
      const perSlice = this.tokensPerSlice;
      const shifted = tf.slice(hidden, [0, this.prefixLength - 1, 0], [batch, slices * perSlice, width]); // (B, W·S, H): state before each token
      const bySlice = tf.reshape(shifted, [batch, slices, perSlice, width]);
      const used = slices - firstSlice;
      const rows = tf.reshape(
        tf.slice(bySlice, [0, firstSlice, 0, 0], [batch, used, this.rows * (this.cols + 1), width]),
        [batch * used, this.rows, this.cols + 1, width],
      );
      return tf.reshape<tf.Rank.R2>(tf.slice(rows, [0, 0, 0, 0], [batch * used, this.rows, this.cols, width]), [
        -1,
        width,
      ]);
    });
  }

  /**
   * With previous_slice_residual, the same patch of the previous slice for every predicted patch of
   * slices firstSlice … W−1 of patches (B, W, rows·cols, p²), as (M, p²) in predictingHidden's order;
   * zeros for slice 0, which has no previous slice. Null without the option.
   */
  previousPatches(patches: tf.Tensor4D, firstSlice: number): tf.Tensor2D | null {
    if (!this.previousSliceResidual) return null;
    return tf.tidy(() => {
      const [batch, slices, perSlice, p2] = patches.shape;
      const previous =
        firstSlice === 0
          ? tf.concat(
              [tf.zeros([batch, 1, perSlice, p2]), tf.slice(patches, [0, 0, 0, 0], [batch, slices - 1, perSlice, p2])],
              1,
            )
          : tf.slice(patches, [0, firstSlice - 1, 0, 0], [batch, slices - firstSlice, perSlice, p2]);
      return tf.reshape<tf.Rank.R2>(previous, [-1, p2]);
    });
  }

  /**
   * The condition images (M, cond·p²) of predicting states (M, H): the output connector's cond_channels
   * images, followed with previous_slice_residual by the previous slice's patches (M, p²).
   */
  conditions(states: tf.Tensor2D, previous: tf.Tensor2D | null = null): tf.Tensor2D {
    const image = this.outputConnector.apply(states) as tf.Tensor2D;
    if (!this.previousSliceResidual) return image;
    const p2 = this.patchSize * this.patchSize;
    if (!previous || previous.rank !== 2 || previous.shape[0] !== states.shape[0] || previous.shape[1] !== p2) {
      image.dispose();
      throw new Error(
        `Generation model: head.previous_slice_residual needs the previous slice's patch for each of the ${states.shape[0]} states, (${states.shape[0]}, ${p2}), got ${previous ? `[${previous.shape.join(',')}]` : 'none'}.`,
      );
    }
    return tf.tidy(() => tf.concat<tf.Tensor2D>([image, previous], 1));
  }

  /** The previous slice's patches (M, p²) carried in conditions (M, cond·p²); null without previous_slice_residual. */
  private baseOf(cond: tf.Tensor2D): tf.Tensor2D | null {
    if (!this.previousSliceResidual) return null;
    const p2 = this.patchSize * this.patchSize;
    return tf.slice(cond, [0, this.condChannels * p2], [cond.shape[0], p2]);
  }

  /**
   * The CFM loss (Eq. 41) of a batch on the patches of slices firstSlice … W−1. `firstWindow` places the
   * batch in a larger one whose noise the seed draws (a data-parallel shard starting at that window).
   */
  loss(
    inputs: GenerationInputs,
    firstSlice: number,
    noiseSeed: number,
    options: GenerationForwardOptions,
    firstWindow = 0,
  ): tf.Scalar {
    return tf.tidy(() => {
      const [batch, slices, perSlice, p2] = inputs.patches.shape;
      const previous = this.previousPatches(inputs.patches, firstSlice);
      const cond = this.conditions(this.predictingHidden(this.hidden(inputs, options), slices, firstSlice), previous);
      const patches = tf.reshape<tf.Rank.R2>(
        tf.slice(inputs.patches, [0, firstSlice, 0, 0], [batch, slices - firstSlice, perSlice, p2]),
        [-1, p2],
      );
      const targets = previous ? tf.sub<tf.Tensor2D>(patches, previous) : patches; // the flow's data end: the patch or its change
      const draws = drawCfmNoise(targets.shape[0], p2, noiseSeed, (firstWindow * targets.shape[0]) / batch);
      const field = this.recomputeActivations
        ? (x: tf.Tensor, tau: tf.Tensor, c: tf.Tensor) => recomputedVelocity(this.cnn, x, tau, c)
        : (x: tf.Tensor, tau: tf.Tensor, c: tf.Tensor) => this.cnn.apply(x, tau, c);
      return cfmLoss(field, targets, cond, draws);
    });
  }

  /**
   * Samples patches (M, p²) for conditions (M, cond·p²) by integrating the CFM ODE from noise (M, p²) at τ = 0
   * to τ = 1. Neither input is disposed; the caller owns the result.
   */
  async samplePatches(cond: tf.Tensor2D, noise: tf.Tensor2D, ode: Omit<OdeOptions, 't0' | 't1'>): Promise<tf.Tensor2D> {
    const end = (await integrate((tau, x) => this.cnn.apply(x, tau, cond), noise, ode)).x as tf.Tensor2D;
    if (!this.previousSliceResidual) return end;
    try {
      return tf.tidy(() => tf.add<tf.Tensor2D>(end, this.baseOf(cond)!));
    } finally {
      end.dispose();
    }
  }

  /**
   * The model's point forecast (M, p²), its conditional mean E[x₁ | past]: for linear paths x_τ = ε at
   * τ = 0 is independent of x₁, so the optimal field there is v(ε, 0) = E[x₁ | past] − ε and ε + v(ε, 0)
   * estimates the mean for any ε; averaged over the given draws (K, M, p²) to wash out the learned
   * field's imperfections. One CNN evaluation per draw instead of a whole ODE solve.
   */
  meanForecast(cond: tf.Tensor2D, draws: tf.Tensor2D[]): tf.Tensor2D {
    return tf.tidy(() => {
      const estimates = draws.map((noise) => tf.add(noise, this.cnn.apply(noise, 0, cond)));
      const mean = tf.div<tf.Tensor2D>(tf.addN(estimates), draws.length);
      const base = this.baseOf(cond);
      return base ? tf.add<tf.Tensor2D>(mean, base) : mean;
    });
  }

  /** Parameter groups by the config's group names; biases exempt from weight decay as the reference. */
  parameterGroups(ratios: GenerationLrRatios, weightDecay: number): ParameterGroup[] {
    const groups: ParameterGroup[] = [
      {
        name: 'lightcone_connector',
        weights: this.patchConnector.namedWeights(),
        lrRatio: ratios.lightcone_connector,
        weightDecay,
        noDecay: biasNoDecay,
      },
      {
        name: 'parameter_connectors',
        weights: this.conditioningWeights(),
        lrRatio: ratios.parameter_connectors,
        weightDecay,
        noDecay: biasNoDecay,
      },
      {
        name: 'special_tokens',
        weights: this.specialTokens.namedWeights(),
        lrRatio: ratios.special_tokens,
        weightDecay: 0,
      },
      {
        name: 'head',
        weights: [...this.outputConnector.namedWeights(), ...this.cnn.namedWeights()],
        lrRatio: ratios.head,
        weightDecay,
        noDecay: biasNoDecay,
      },
      // Qwen2's only biases are those of q/k/v; its norm scales and any LoRA adapters decay, as in the reference.
      {
        name: 'backbone',
        weights: this.backboneTrainables(),
        lrRatio: ratios.backbone,
        weightDecay,
        noDecay: biasNoDecay,
      },
    ];
    return groups.filter((g) => g.weights.length > 0);
  }

  /** Every trainable variable by checkpoint key. */
  namedTrainableWeights(): [string, tf.Variable][] {
    return [
      ...this.patchConnector.namedWeights(),
      ...this.conditioningWeights(),
      ...this.specialTokens.namedWeights(),
      ...this.outputConnector.namedWeights(),
      ...this.cnn.namedWeights(),
      ...this.backboneTrainables(),
    ];
  }

  private trainedVariableSet(): Set<tf.Variable> {
    return new Set(this.namedTrainableWeights().map(([, v]) => v));
  }

  trainableParameterCount(): number {
    return this.namedTrainableWeights().reduce((sum, [, v]) => sum + v.size, 0);
  }

  dispose(): void {
    for (const m of [
      this.patchConnector,
      ...this.parameterConnectors,
      this.outputConnector,
      ...(this.timeStepConnector ? [this.timeStepConnector] : []),
    ])
      m.dispose();
    this.cnn.dispose();
    this.specialTokens.dispose();
    this.backbone.dispose();
  }

  private conditioningWeights(): [string, tf.Variable][] {
    return [
      ...this.parameterConnectors.flatMap((m) => m.namedWeights()),
      ...(this.timeStepConnector?.namedWeights() ?? []),
    ];
  }

  private backboneTrainables(): [string, tf.Variable][] {
    return trainableVariables(this.backbone, this.finetune)
      .filter(
        (g) => g.group !== 'specialTokens' && (this.trainNorms || this.finetune !== 'lora' || g.group !== 'norms'),
      )
      .flatMap((g) => g.variables.map(({ name, variable }) => [name, variable] as [string, tf.Variable]));
  }

  private checkInputs(inputs: GenerationInputs): void {
    const p2 = this.patchSize * this.patchSize;
    const [batch, slices, perSlice, dim] = inputs.patches.shape;
    if (inputs.patches.rank !== 4 || perSlice !== this.patchesPerSlice || dim !== p2) {
      throw new Error(
        `Generation model: patches must be (batch, slices, ${this.patchesPerSlice}, ${p2}), got [${inputs.patches.shape.join(',')}]; check data.patch_size against the slices.`,
      );
    }
    if (inputs.params.rank !== 2 || inputs.params.shape[0] !== batch || inputs.params.shape[1] !== 6) {
      throw new Error(
        `Generation model: params must be (${batch}, 6) normalised parameters, got [${inputs.params.shape.join(',')}].`,
      );
    }
    if (inputs.timeSteps.rank !== 1 || inputs.timeSteps.shape[0] !== batch)
      throw new Error(`Generation model: timeSteps must be (${batch}), got [${inputs.timeSteps.shape.join(',')}].`);
    const length = this.prefixLength + slices * this.tokensPerSlice;
    if (length > this.backbone.config.maxPositionEmbeddings) {
      throw new Error(
        `Generation model: ${slices} slices make a sequence of ${length} tokens, longer than the backbone's max_position_embeddings ${this.backbone.config.maxPositionEmbeddings}; use at most ${this.maxSlices()} slices or a larger max_position_embeddings.`,
      );
    }
  }
}

export { lightconeStartName };
