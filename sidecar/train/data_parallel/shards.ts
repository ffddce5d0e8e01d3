// How data-parallel workers share a micro-batch: contiguous rows, the sizes differing by at most one (the
// first shards take the extra rows), in rank order. Fixed for a batch size and a worker count, so a run on
// N workers computes the same shards whenever it runs or resumes.
import type { Shard } from '../training_task';

export function shardsOf(batchSize: number, workers: number): Shard[] {
  if (!Number.isInteger(workers) || workers < 1 || workers > batchSize) {
    throw new Error(
      `Data-parallel shards: ${workers} workers cannot share a batch of ${batchSize} rows; use 1 to ${batchSize} workers.`,
    );
  }
  const base = Math.floor(batchSize / workers);
  const extra = batchSize % workers;
  const shards: Shard[] = [];
  let start = 0;
  for (let rank = 0; rank < workers; rank++) {
    const size = base + (rank < extra ? 1 : 0);
    shards.push({ start, size, of: batchSize });
    start += size;
  }
  return shards;
}
