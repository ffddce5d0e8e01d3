// The parameter and memory estimates of a sweep's configs, as config hover shows them for one
// config (config_estimates.ts), once per distinct estimate: runs that differ only in settings that do
// not change the model's size (learning rate, seed) share one line. The editor's hover over a sweep
// file and `l3m sweep plan` both print these.
import type { ConfigFileSystem } from './config_context';
import { backboneShape } from './backbone_shape';
import { describeEstimate, estimateParameters, formatCount, type ParameterEstimate } from './config_estimates';
import { resolveConfig } from './resolve_config';
import { estimateTrainingMemory, formatBytes, describeMemoryMarkdown, type MemoryEstimate } from './memory_estimate';
import type { PlannedRun, SweepPlan } from './sweep_types';

export interface SweepEstimate {
  /** The runs with this estimate, in order. */
  runs: number[];
  /** Their groups, in order of first appearance. */
  groups: string[];
  experiment: string;
  /** Undefined when the size is unknown (`unknown` says why). */
  estimate?: ParameterEstimate;
  /** The training memory estimate (schemas/memory_estimate.ts), when the sequence length is known. */
  memory?: MemoryEstimate;
  unknown?: string;
}

/** The estimate of one run's config, or why there is none. */
export function runEstimate(
  run: PlannedRun,
  fileSystem: ConfigFileSystem,
): { estimate?: ParameterEstimate; memory?: MemoryEstimate; unknown?: string } {
  try {
    const config = resolveConfig(run.config);
    const shape = backboneShape(config, { configPath: run.base, fileSystem });
    if (!shape) {
      return {
        unknown:
          config.backbone.source === 'pretrained'
            ? "unknown until the checkpoint's config.json is readable at backbone.path"
            : 'unknown (the backbone shape is not readable)',
      };
    }
    const estimate = estimateParameters(config, shape);
    return { estimate, memory: estimateTrainingMemory(config, shape, estimate) };
  } catch {
    // A planned run's config has been validated; this guards against a shape the estimate does not know.
    return { unknown: 'unknown' };
  }
}

/** One entry per distinct estimate of each experiment, in run order. */
export function sweepEstimates(plan: SweepPlan, fileSystem: ConfigFileSystem): SweepEstimate[] {
  const entries = new Map<string, SweepEstimate>();
  const byOverrides = new Map<string, { estimate?: ParameterEstimate; memory?: MemoryEstimate; unknown?: string }>();
  for (const run of plan.runs) {
    // Repeats differ only in the seed, which never changes the size: estimate each config once.
    const configKey = `${run.base}\n${JSON.stringify(run.overrides)}`;
    let result = byOverrides.get(configKey);
    if (!result) {
      result = runEstimate(run, fileSystem);
      byOverrides.set(configKey, result);
    }
    const key = `${run.experiment}\n${JSON.stringify(result)}`;
    const entry = entries.get(key) ?? { runs: [], groups: [], experiment: run.experiment, ...result };
    entry.runs.push(run.index);
    if (!entry.groups.includes(run.group)) entry.groups.push(run.group);
    entries.set(key, entry);
  }
  return [...entries.values()];
}

/**
 * "20.2k parameters (19.7k trained), about 530 MiB to train (activations 1.2 MiB at 8 × 185 tokens)" for a table
 * row; "at least" the weights and Adam's when the sequence length is unknown.
 */
export function estimateLine(entry: Pick<SweepEstimate, 'estimate' | 'memory' | 'unknown'>): string {
  const e = entry.estimate;
  if (!e) return `parameters ${entry.unknown ?? 'unknown'}`;
  const m = entry.memory;
  if (m) {
    return (
      `${formatCount(e.total)} parameters (${formatCount(e.trainable)} trained), about ${formatBytes(m.totalBytes)} to train ` +
      `(activations ${formatBytes(m.activationBytes + m.backwardBytes)} at ${m.microBatch} × ${m.sequenceLength} tokens${m.recompute ? ', recomputed' : ''})`
    );
  }
  const mib = e.trainingMemoryBytes / 2 ** 20;
  const memory = mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
  return `${formatCount(e.total)} parameters (${formatCount(e.trainable)} trained), at least ${memory} to train`;
}

/** Markdown for hover: the run count and one paragraph per distinct estimate. */
export function describeSweep(plan: SweepPlan, fileSystem: ConfigFileSystem): string {
  const runs = plan.runs.length;
  const groups = new Set(plan.runs.map((r) => r.group)).size;
  const lines = [
    `**Sweep ${plan.name}:** ${runs} run${runs === 1 ? '' : 's'} in ${groups} group${groups === 1 ? '' : 's'}` +
      ` (${plan.repeats} repeat${plan.repeats === 1 ? '' : 's'} each)` +
      (runs > plan.maxRuns ? `, more than max_runs (${plan.maxRuns}): starting asks first` : ''),
  ];
  for (const entry of sweepEstimates(plan, fileSystem)) {
    const who = `${entry.experiment}: ${entry.groups.slice(0, 3).join('; ')}${entry.groups.length > 3 ? `; and ${entry.groups.length - 3} more groups` : ''}`;
    lines.push(
      entry.estimate
        ? `*${who}*  \n${describeEstimate(entry.estimate, entry.memory && describeMemoryMarkdown(entry.memory))}`
        : `*${who}*  \n**Parameters:** ${entry.unknown ?? 'unknown'}`,
    );
  }
  return lines.join('\n\n');
}
