// The check before a run starts that its estimated memory (schemas/memory_estimate.ts) fits the machine: a run
// that would be killed for memory an hour in is refused at once, with the figures and what to lower. The limit is
// the machine's memory or the cgroup's limit when lower (a container, a Slurm job's allocation), or
// L3M_MEMORY_LIMIT_MB when set (to leave room for other work, and for tests).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { backboneShape } from '../../schemas/backbone_shape';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { estimateParameters } from '../../schemas/config_estimates';
import { estimateTrainingMemory, formatBytes, memoryAdvice, type MemoryEstimate } from '../../schemas/memory_estimate';
import { runWorkerCount } from './training_workers';

export interface MemoryLimit {
  bytes: number;
  /** Where the figure came from, for messages. */
  source: string;
}

/** Thrown by checkTrainingMemory: the estimate, the limit and what to lower are in the message. */
export class MemoryEstimateExceededError extends Error {
  constructor(
    readonly estimate: MemoryEstimate,
    readonly limit: MemoryLimit,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryEstimateExceededError';
  }
}

/** cgroup v2's memory.max, else v1's limit_in_bytes; undefined when there is none (or "max"). */
function cgroupLimitBytes(read: (path: string) => string | undefined): { bytes: number; path: string } | undefined {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const text = read(path)?.trim();
    if (!text || text === 'max') continue;
    const bytes = Number(text);
    // v1 reports "no limit" as a number near 2⁶³.
    if (Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60) return { bytes, path };
  }
  return undefined;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The memory a run may use: L3M_MEMORY_LIMIT_MB, else the lower of the machine's memory and its cgroup limit. */
export function machineMemoryLimit(
  env: NodeJS.ProcessEnv = process.env,
  read: (path: string) => string | undefined = readIfPresent,
  machineBytes: number = totalmem(),
): MemoryLimit {
  const override = env.L3M_MEMORY_LIMIT_MB;
  if (override !== undefined && override !== '') {
    const mb = Number(override);
    if (!(Number.isFinite(mb) && mb > 0)) {
      throw new Error(
        `L3M_MEMORY_LIMIT_MB is "${override}"; expected a positive number of MB (the memory a run may use), or unset it to use the machine's.`,
      );
    }
    return { bytes: mb * 2 ** 20, source: 'L3M_MEMORY_LIMIT_MB' };
  }
  const cgroup = cgroupLimitBytes(read);
  if (cgroup && cgroup.bytes < machineBytes)
    return { bytes: cgroup.bytes, source: `the cgroup limit (${cgroup.path})` };
  return { bytes: machineBytes, source: "the machine's memory" };
}

/** The memory estimate of a run of `config`, or undefined when its size cannot be told here. */
export function runMemoryEstimate(config: ResolvedExperimentConfig, configPath: string): MemoryEstimate | undefined {
  const shape = backboneShape(config, { configPath, fileSystem: nodeFileSystem });
  if (!shape) return undefined;
  // Before the backend is chosen, count the workers the CPU backends would start (the others train on one).
  const workers =
    config.runtime.backend === 'auto' || config.runtime.backend === 'wasm' || config.runtime.backend === 'cpu'
      ? runWorkerCount(config, 'wasm').workers
      : 1;
  return estimateTrainingMemory(config, shape, estimateParameters(config, shape), workers);
}

/**
 * Throws MemoryEstimateExceededError when the run's estimated peak memory is above `limit`; returns the estimate
 * (undefined when it cannot be made, which lets the run start: the estimate is a guard, not a requirement).
 */
export function checkTrainingMemory(
  config: ResolvedExperimentConfig,
  configPath: string,
  limit: MemoryLimit = machineMemoryLimit(),
): MemoryEstimate | undefined {
  const estimate = runMemoryEstimate(config, configPath);
  if (!estimate || estimate.totalBytes <= limit.bytes) return estimate;
  throw new MemoryEstimateExceededError(
    estimate,
    limit,
    `${configPath}: this run needs about ${formatBytes(estimate.totalBytes)} of memory (weights ${formatBytes(estimate.weightsBytes)}, ` +
      `gradients and Adam ${formatBytes(estimate.optimizerBytes)}, activations ${formatBytes(estimate.activationBytes + estimate.backwardBytes)} ` +
      `for ${estimate.microBatch} × ${estimate.sequenceLength} tokens${estimate.workers > 1 ? ` on each of ${estimate.workers} workers` : ''}, ` +
      `data cache ${formatBytes(estimate.dataBytes)}), more than the ${formatBytes(limit.bytes)} available (${limit.source}). ` +
      `Nothing was started. To fit: ${memoryAdvice(config, estimate)}.`,
  );
}
