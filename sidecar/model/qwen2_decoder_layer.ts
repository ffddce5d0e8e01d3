// One pre-norm residual block of HF `Qwen2DecoderLayer`:
// h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)).
import * as tf from '@tensorflow/tfjs';
import type { Qwen2Config } from './qwen2_config';
import { Qwen2Attention, type AttentionContext } from './qwen2_attention';
import { Qwen2Mlp } from './qwen2_mlp';
import { Qwen2RmsNorm } from './qwen2_rms_norm';
import type { WeightSource } from './weight_source';

export class Qwen2DecoderLayer {
  readonly inputLayernorm: Qwen2RmsNorm;
  readonly selfAttn: Qwen2Attention;
  readonly postAttentionLayernorm: Qwen2RmsNorm;
  readonly mlp: Qwen2Mlp;

  constructor(
    config: Qwen2Config,
    readonly layerIndex: number,
    source: WeightSource,
  ) {
    const name = `model.layers.${layerIndex}`;
    this.inputLayernorm = new Qwen2RmsNorm(`${name}.input_layernorm`, config.hiddenSize, config.rmsNormEps, source);
    this.selfAttn = new Qwen2Attention(config, layerIndex, `${name}.self_attn`, source);
    this.postAttentionLayernorm = new Qwen2RmsNorm(
      `${name}.post_attention_layernorm`,
      config.hiddenSize,
      config.rmsNormEps,
      source,
    );
    this.mlp = new Qwen2Mlp(config, `${name}.mlp`, source);
  }

  apply(x: tf.Tensor, context: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      const afterAttention = tf.add(x, this.selfAttn.apply(this.inputLayernorm.apply(x), context)); // (B, T, H)
      return tf.add(afterAttention, this.mlp.apply(this.postAttentionLayernorm.apply(afterAttention))); // (B, T, H)
    });
  }

  dispose(): void {
    this.inputLayernorm.dispose();
    this.selfAttn.dispose();
    this.postAttentionLayernorm.dispose();
    this.mlp.dispose();
  }
}
