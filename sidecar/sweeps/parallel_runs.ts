// How many runs of a sweep this machine runs at once (K), and how many threads each gets. The paper's
// runs are small models whose steps are too short to keep many threads busy, so on a CPU several runs
// side by side, a core or two each, finish a sweep sooner than one run at a time on every core: K is
// the number of cores, unless memory holds fewer runs, or the sweep has fewer. Each run then gets
// floor(cores / K) threads, through L3M_THREADS in its environment (which overrides runtime.threads).
import { availableParallelism, freemem } from 'node:os';
import { estimateParameters } from '../../schemas/config_estimates';
import { backboneShape } from '../../schemas/backbone_shape';
import { nodeFileSystem } from '../../schemas/node_file_system';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';

/**
 * What a run needs besides its model: Node, TF.js and its kernels, the dataset in memory. Measured at
 * 250 to 400 MiB for the tiny and quickstart configs on the wasm and cpu backends; rounded up.
 */
export const baseRunBytes = 512 * 2 ** 20;

/** Of the free memory, the share runs may take: the editor and the system keep the rest. */
const usableMemoryShare = 0.8;

export interface ParallelInput {
  /** K asked for (--parallel, the l3m.localParallel setting, or the sweep file's local.parallel), with who asked; null = choose. */
  requested: { value: number; source: string } | null;
  cores: number;
  freeMemoryBytes: number;
  /** The most memory one run of the sweep needs (memoryPerRun). */
  perRunBytes: number;
  /** How many runs are to run. */
  runs: number;
}

export interface ParallelChoice {
  parallel: number;
  /** L3M_THREADS for each run: floor(cores / K), at least 1. */
  threads: number;
  /** One sentence on how K was chosen, for the output. */
  reason: string;
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** K and the threads per run (pure, so that the choice is tested without the machine). */
export function chooseParallel(input: ParallelInput): ParallelChoice {
  const cores = Math.max(1, Math.floor(input.cores));
  const threadsFor = (k: number) => Math.max(1, Math.floor(cores / k));
  if (input.requested && input.requested.value >= 1) {
    const k = Math.floor(input.requested.value);
    return {
      parallel: k,
      threads: threadsFor(k),
      reason: `${k} run${k === 1 ? '' : 's'} at once, as ${input.requested.source} sets, ${threadsFor(k)} thread${threadsFor(k) === 1 ? '' : 's'} each`,
    };
  }
  const byMemory = Math.max(
    1,
    Math.floor((input.freeMemoryBytes * usableMemoryShare) / Math.max(1, input.perRunBytes)),
  );
  const k = Math.max(1, Math.min(cores, byMemory, input.runs));
  const limits = [
    `${cores} core${cores === 1 ? '' : 's'}`,
    `memory for ${byMemory} (${gib(input.freeMemoryBytes)} free, about ${mib(input.perRunBytes)} a run)`,
    `${input.runs} run${input.runs === 1 ? '' : 's'} to do`,
  ];
  return {
    parallel: k,
    threads: threadsFor(k),
    reason: `${k} run${k === 1 ? '' : 's'} at once (the least of ${limits.join(', ')}), ${threadsFor(k)} thread${threadsFor(k) === 1 ? '' : 's'} each; set it with --parallel or local.parallel`,
  };
}

/**
 * The memory one run of a config needs, about: what the process needs anyway, plus twice the
 * parameter estimate's training memory (weights, gradients and Adam moments), the second time for
 * activations, which the estimate leaves out. A pretrained backbone not readable here counts as the base alone.
 */
export function memoryPerRun(config: ResolvedExperimentConfig, configPath: string): number {
  const shape = backboneShape(config, { configPath, fileSystem: nodeFileSystem });
  if (!shape) return baseRunBytes;
  return baseRunBytes + 2 * estimateParameters(config, shape).trainingMemoryBytes;
}

/** This machine's cores and free memory. */
export function machineResources(): { cores: number; freeMemoryBytes: number } {
  return { cores: availableParallelism(), freeMemoryBytes: freemem() };
}
