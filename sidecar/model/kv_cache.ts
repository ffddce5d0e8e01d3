// Key/value cache for incremental decoding: per layer the rotated keys and the values of every position seen
// so far, (B, nKv, T, d) each, as HF's DynamicCache. A forward pass with a cache attends over the cached
// positions plus the new ones and appends the new keys/values; outputs equal a full forward pass.
import * as tf from '@tensorflow/tfjs';

export interface LayerKv {
  keys: tf.Tensor4D; // (B, nKv, T, d)
  values: tf.Tensor4D; // (B, nKv, T, d)
}

export class KvCache {
  private layers: (LayerKv | null)[];

  constructor(readonly numLayers: number) {
    this.layers = new Array<LayerKv | null>(numLayers).fill(null);
  }

  /** Number of positions cached (0 when empty). */
  get length(): number {
    return this.layers[0]?.keys.shape[2] ?? 0;
  }

  get(layer: number): LayerKv | null {
    return this.layers[layer] ?? null;
  }

  /**
   * Replaces layer `layer`'s entry with the full (past + new) keys and values that attention built; the cache
   * keeps them alive across tf.tidy scopes and frees the previous ones.
   */
  set(layer: number, entry: LayerKv): void {
    const previous = this.layers[layer];
    this.layers[layer] = { keys: tf.keep(entry.keys), values: tf.keep(entry.values) };
    if (previous) {
      previous.keys.dispose();
      previous.values.dispose();
    }
  }

  /** Frees every cached tensor; the cache is empty afterwards and can be reused. */
  dispose(): void {
    for (const entry of this.layers) {
      entry?.keys.dispose();
      entry?.values.dispose();
    }
    this.layers.fill(null);
  }
}
