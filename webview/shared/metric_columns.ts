// The shape in which metric records travel to the monitor and compare pages: typed arrays, one per
// field, which a webview message clones in a few milliseconds where 100k record objects take well
// over 100 ms. A type of the panel protocol, kept apart from the code that builds and holds columns
// (metric_table.ts) so that the protocol does not depend on that code.

export const splitNames = ['train', 'val', 'test'] as const;
export type SplitName = (typeof splitNames)[number];

export interface MetricColumns {
  length: number;
  step: Float64Array;
  epoch: Float64Array;
  wall_time: Float64Array;
  /** Index into splitNames. */
  split: Uint8Array;
  /** Per metric: the value (NaN where the record wrote null for a non-finite value), and whether the record has the key. */
  metrics: { name: string; values: Float64Array; present: Uint8Array }[];
}
