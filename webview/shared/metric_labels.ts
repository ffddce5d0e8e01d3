// The one table of what a metric key means to a reader: every panel's chart titles, axis labels and
// read-outs name a metric by these words (with its unit where it has one), never by the raw key that
// metrics.jsonl uses. A key the table does not know keeps its own name, so a new metric still shows.

/** A metric's words and unit; `unit` is null for a dimensionless number. */
export interface MetricLabel {
  name: string;
  unit: string | null;
}

// Exact keys first. The training loop writes loss, lr, steps_per_s and a gradient norm and loss per
// phase; the regression task its test NLL, R², coverage and L1 per parameter; the generation task its
// CFM loss, the number of windows a validation saw and the next-patch scores against two baselines.
const exact: Record<string, MetricLabel> = {
  loss: { name: 'Loss', unit: null },
  lr: { name: 'Learning rate', unit: null },
  steps_per_s: { name: 'Throughput', unit: 'steps/s' },
  grad_norm: { name: 'Gradient norm', unit: null },
  nll: { name: 'NLL', unit: 'nats' },
  cfm_loss: { name: 'CFM loss', unit: null },
  windows: { name: 'Windows', unit: null },
  next_patch_mse: { name: 'Next-patch MSE', unit: null },
  next_patch_mse_std: { name: 'Next-patch MSE σ', unit: null },
  next_patch_mean_forecast_mse: { name: 'Mean-forecast MSE', unit: null },
  next_patch_ensemble_mean_mse: { name: 'Ensemble-mean MSE', unit: null },
  next_patch_crps: { name: 'Next-patch CRPS', unit: null },
  baseline_previous_slice_mse: { name: 'Previous-slice baseline MSE', unit: null },
  baseline_mean_patch_mse: { name: 'Mean-patch baseline MSE', unit: null },
  baseline_previous_slice_crps: { name: 'Previous-slice baseline CRPS', unit: null },
  baseline_mean_patch_crps: { name: 'Mean-patch baseline CRPS', unit: null },
  cpu_percent: { name: 'CPU', unit: '%' },
  rss_mb: { name: 'Memory (RSS)', unit: 'MB' },
  gpu_memory_mb: { name: 'GPU memory', unit: 'MB' },
  gpu_utilization: { name: 'GPU utilisation', unit: '%' },
};

// Keys with a suffix: a parameter of the regression task (omegaM, zeta…) or a training phase (all, lora…).
const prefixed: [prefix: string, label: (rest: string) => MetricLabel][] = [
  ['r2_', (p) => ({ name: `R² ${p}`, unit: null })],
  ['coverage68_', (p) => ({ name: `68 % coverage ${p}`, unit: null })],
  ['coverage95_', (p) => ({ name: `95 % coverage ${p}`, unit: null })],
  ['l1_', (p) => ({ name: `L1 error ${p}`, unit: null })],
  ['grad_norm_', (phase) => ({ name: `Gradient norm (${phase})`, unit: null })],
  ['loss_', (phase) => ({ name: `Loss (${phase})`, unit: null })],
];

export function metricLabel(metric: string): MetricLabel {
  const known = exact[metric];
  if (known) return known;
  for (const [prefix, label] of prefixed)
    if (metric.startsWith(prefix) && metric.length > prefix.length) return label(metric.slice(prefix.length));
  return { name: metric, unit: null };
}

/** The metric in words with its unit: "Throughput (steps/s)". */
export function metricTitle(metric: string): string {
  const { name, unit } = metricLabel(metric);
  return unit === null ? name : `${name} (${unit})`;
}

/** A chart of one metric in one split: "Throughput (steps/s) · train". */
export function metricSplitTitle(metric: string, split: string): string {
  return `${metricTitle(metric)} · ${split}`;
}

const xAxisTitles: Record<string, string> = { step: 'step', epoch: 'epoch', wall_time: 'wall time (s)' };

/** The x axis in words: step, epoch or wall time with its unit. */
export function xAxisTitle(axis: string): string {
  return xAxisTitles[axis] ?? axis;
}

/** A compare chart's key, "metric · split", in words. */
export function chartKeyTitle(key: string): string {
  const at = key.lastIndexOf(' · ');
  return at < 0 ? metricTitle(key) : metricSplitTitle(key.slice(0, at), key.slice(at + 3));
}
