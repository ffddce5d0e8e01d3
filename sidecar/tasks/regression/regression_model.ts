// The regression model of the paper's Sec. 4 (reference regression/network/modeling.py `L3MRegressor`,
// docs/paper-mapping.md#regression): scalar lightcone tokens (the 47-token global signal, or patch means) go
// through the input connector into the backbone's hidden space, are placed inside a prompt template
// (prompt_template.ts), run through the Qwen2 backbone, and the hidden state at the final
// <|ska-param|> position (after the backbone's final RMSNorm) goes through the output connector into
// the Gaussian head (gaussian_head.ts). The reference networks of Table 2 are the same model with a
// random, non-causal backbone trained from scratch.
import * as tf from '@tensorflow/tfjs';
import type { Qwen2Model } from '../../model/qwen2_model';
import { SpecialTokens } from '../../model/special_tokens';
import { trainableVariables, type FinetuneMode } from '../../model/finetune_groups';
import { defaultNoDecay, type ParameterGroup } from '../../train/parameter_group';
import { Mlp, inputConnectorSizes, outputConnectorSizes, type ConnectorShape } from '../shared/connectors';
import {
  gaussianNll,
  gaussianNllLoss,
  gaussianOutputs,
  outputSizeFor,
  paramCount,
  type CovarianceKind,
} from './gaussian_head';
import { promptLength, trainableTokenNames, type PromptSegment } from './prompt_template';

export interface RegressionModelOptions {
  prompt: PromptSegment[];
  inputConnector: ConnectorShape;
  /** Hidden layers of the output connector (0 = the paper's single linear map) and their width. */
  headDepth: number;
  headWidth: number;
  covariance: CovarianceKind;
  /** Which backbone weights train (frozen, lora, full, scratch). */
  finetune: FinetuneMode;
  /** Seeds the connectors and special tokens (the backbone has its own seed). */
  seed: number;
}

/** Learning-rate ratios by the config's group names (training.lr_ratios). */
export interface RegressionLrRatios {
  lightcone_connector: number;
  special_tokens: number;
  head: number;
  backbone: number;
}

export interface ForwardOptions {
  training: boolean;
  dropoutSeed?: number;
}

export class RegressionModel {
  readonly inputConnector: Mlp;
  readonly outputConnector: Mlp;
  readonly specialTokens: SpecialTokens;
  readonly prompt: PromptSegment[];
  readonly covariance: CovarianceKind;
  readonly finetune: FinetuneMode;

  constructor(
    readonly backbone: Qwen2Model,
    options: RegressionModelOptions,
  ) {
    const hidden = backbone.config.hiddenSize;
    if (!options.prompt.some((s) => s.kind === 'lightcone'))
      throw new Error('Regression prompt has no lightcone segment; every template must place the lightcone tokens.');
    this.prompt = options.prompt;
    this.covariance = options.covariance;
    this.finetune = options.finetune;
    this.inputConnector = new Mlp(
      'input_connector',
      inputConnectorSizes(options.inputConnector, hidden),
      options.seed * 4 + 1,
    );
    this.outputConnector = new Mlp(
      'output_connector',
      outputConnectorSizes(options.headDepth, options.headWidth, hidden, outputSizeFor(options.covariance)),
      options.seed * 4 + 2,
    );
    this.specialTokens = new SpecialTokens(hidden, trainableTokenNames(options.prompt), options.seed * 4 + 3);
  }

  /** Sequence length for `lightconeTokens` tokens per lightcone. */
  sequenceLength(lightconeTokens: number): number {
    return promptLength(this.prompt, lightconeTokens);
  }

  /** The backbone's input vectors (B, T, H) for lightcone tokens (B, N). */
  inputsEmbeds(tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, count] = tokens.shape;
      const hidden = this.backbone.config.hiddenSize;
      const parts = this.prompt.map((segment) => {
        switch (segment.kind) {
          case 'lightcone':
            return this.inputConnector.apply(tf.reshape(tokens, [batch, count, 1])); // (B, N, H)
          case 'text': {
            const ids = tf.tensor2d(segment.ids, [1, segment.ids.length], 'int32');
            return tf.tile(this.backbone.embed(ids), [batch, 1, 1]); // (B, len, H)
          }
          case 'trainable':
            return tf.tile(tf.reshape(this.specialTokens.stack(segment.names), [1, segment.names.length, hidden]), [
              batch,
              1,
              1,
            ]); // (B, k, H)
        }
      });
      return tf.concat(parts, 1) as tf.Tensor3D; // (B, T, H)
    });
  }

  /** The hidden state at the summary token, after the final norm: (B, H). */
  summaryHidden(tokens: tf.Tensor2D, options: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      const { hidden } = this.backbone.forward({
        inputsEmbeds: this.inputsEmbeds(tokens),
        training: options.training,
        dropoutSeed: options.dropoutSeed,
      });
      const [batch, length, width] = hidden.shape;
      return tf.reshape<tf.Rank.R2>(tf.slice(hidden, [0, length - 1, 0], [batch, 1, width]), [batch, width]); // (B, H)
    });
  }

  /** Raw outputs of the output connector (B, 27) (or (B, 12) for a diagonal covariance). */
  rawOutputs(tokens: tf.Tensor2D, options: ForwardOptions): tf.Tensor2D {
    checkTokens(tokens);
    return tf.tidy(() => this.outputConnector.apply(this.summaryHidden(tokens, options)) as tf.Tensor2D);
  }

  /** The training loss (Eq. 34, reference convention) on a batch. */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D, options: ForwardOptions): tf.Scalar {
    return tf.tidy(() => gaussianNllLoss(this.rawOutputs(tokens, options), targets));
  }

  /**
   * Mean, Cholesky factor of the precision, full NLL per lightcone (nats), for evaluation; read
   * asynchronously, as the webgpu backend has no synchronous read under Node.
   */
  async predict(
    tokens: tf.Tensor2D,
    targets?: tf.Tensor2D,
  ): Promise<{ mean: Float32Array; cholesky: Float32Array; nll: Float32Array | null }> {
    const [mean, cholesky, nll] = tf.tidy(() => {
      const raw = this.rawOutputs(tokens, { training: false });
      const outputs = gaussianOutputs(raw);
      return [outputs.mean, outputs.cholesky, targets ? gaussianNll(raw, targets) : tf.zeros([0])];
    });
    try {
      return {
        mean: (await mean.data()) as Float32Array,
        cholesky: (await cholesky.data()) as Float32Array,
        nll: targets ? ((await nll.data()) as Float32Array) : null,
      };
    } finally {
      tf.dispose([mean, cholesky, nll]);
    }
  }

  /**
   * The parameter groups by the config's names. Empty groups are left out. The backbone group holds
   * LoRA adapters and norms (lora), or every weight but the token embedding (full), or everything
   * (scratch); special tokens are their own group.
   */
  parameterGroups(ratios: RegressionLrRatios, weightDecay: number): ParameterGroup[] {
    const groups: ParameterGroup[] = [
      {
        name: 'lightcone_connector',
        weights: this.inputConnector.namedWeights(),
        lrRatio: ratios.lightcone_connector,
        weightDecay,
        noDecay: defaultNoDecay,
      },
      {
        name: 'special_tokens',
        weights: this.specialTokens.namedWeights(),
        lrRatio: ratios.special_tokens,
        weightDecay,
        noDecay: () => true,
      },
      {
        name: 'head',
        weights: this.outputConnector.namedWeights(),
        lrRatio: ratios.head,
        weightDecay,
        noDecay: defaultNoDecay,
      },
      {
        name: 'backbone',
        weights: this.backboneTrainables(),
        lrRatio: ratios.backbone,
        weightDecay,
        noDecay: defaultNoDecay,
      },
    ];
    return groups.filter((g) => g.weights.length > 0);
  }

  /** Every trainable variable by checkpoint key (what a checkpoint saves, as the reference saves only requires_grad params). */
  namedTrainableWeights(): [string, tf.Variable][] {
    return [
      ...this.inputConnector.namedWeights(),
      ...this.specialTokens.namedWeights(),
      ...this.outputConnector.namedWeights(),
      ...this.backboneTrainables(),
    ];
  }

  /** Number of trained parameters (the paper's 26.9k for Qwen2.5-0.5B, frozen, minimal template). */
  trainableParameterCount(): number {
    return this.namedTrainableWeights().reduce((sum, [, v]) => sum + v.size, 0);
  }

  dispose(): void {
    this.inputConnector.dispose();
    this.outputConnector.dispose();
    this.specialTokens.dispose();
    this.backbone.dispose();
  }

  private backboneTrainables(): [string, tf.Variable][] {
    return trainableVariables(this.backbone, this.finetune)
      .filter((g) => g.group !== 'specialTokens')
      .flatMap((g) => g.variables.map(({ name, variable }) => [name, variable] as [string, tf.Variable]));
  }
}

function checkTokens(tokens: tf.Tensor): void {
  if (tokens.rank !== 2)
    throw new Error(`Regression model expects lightcone tokens (batch, tokens), got [${tokens.shape.join(',')}].`);
}

export { paramCount };
