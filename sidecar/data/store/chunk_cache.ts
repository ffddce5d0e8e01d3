// A least-recently-used cache of decoded chunks bounded by bytes (data.cache_mb): what keeps the
// memory of training, evaluation and sampling the same whatever the size of the dataset.
export class ChunkCache {
  private readonly entries = new Map<string, Float32Array>();
  private held = 0;

  constructor(readonly capacityBytes: number) {
    if (!(capacityBytes > 0)) throw new Error(`ChunkCache: capacity ${capacityBytes} bytes must be positive.`);
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): Float32Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      // Map keeps insertion order: re-inserting makes the entry the most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Adds a chunk and evicts the least recently used ones beyond the capacity (the newest always stays). */
  set(key: string, value: Float32Array): void {
    const old = this.entries.get(key);
    if (old) {
      this.held -= old.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.held += value.byteLength;
    for (const [oldest, chunk] of this.entries) {
      if (this.held <= this.capacityBytes || oldest === key) break;
      this.entries.delete(oldest);
      this.held -= chunk.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}
