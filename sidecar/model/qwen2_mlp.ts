// The SiLU-gated MLP of HF `Qwen2MLP`: down(silu(gate(x)) * up(x)), no biases.
import * as tf from '@tensorflow/tfjs';
import type { Qwen2Config } from './qwen2_config';
import { LoraLinear } from './lora_linear';
import { swiglu } from './ops/swiglu_kernel';
import type { WeightSource } from './weight_source';

export class Qwen2Mlp {
  readonly gateProj: LoraLinear;
  readonly upProj: LoraLinear;
  readonly downProj: LoraLinear;

  constructor(config: Qwen2Config, name: string, source: WeightSource) {
    this.gateProj = new LoraLinear(`${name}.gate_proj`, config.hiddenSize, config.intermediateSize, false, source);
    this.upProj = new LoraLinear(`${name}.up_proj`, config.hiddenSize, config.intermediateSize, false, source);
    this.downProj = new LoraLinear(`${name}.down_proj`, config.intermediateSize, config.hiddenSize, false, source);
  }

  get projections(): Record<'gate' | 'up' | 'down', LoraLinear> {
    return { gate: this.gateProj, up: this.upProj, down: this.downProj };
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // silu(gate) · up, silu(z) = z·σ(z), in one kernel pass each way (./ops/swiglu_kernel.ts).
      const gated = swiglu(this.gateProj.apply(x), this.upProj.apply(x)); // (B, T, I)
      return this.downProj.apply(gated); // (B, T, H)
    });
  }

  dispose(): void {
    for (const projection of Object.values(this.projections)) projection.dispose();
  }
}
