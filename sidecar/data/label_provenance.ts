// Where each parameter's values came from, summed over a dataset, for `l3m data`: a 21cmFAST attribute, a
// labels file, a fixed value of the config, or the source's own labels. A labels file's lines collapse
// into the file, so a dataset of thousands of cones gives a line or two per parameter.
import type { ResolvedData } from '../../schemas/generated/experiment_config';
import type { LightconeEntry } from './lightcone_record';
import { byParameter, parameterNames, schemaParameterNames, type ParameterName } from './parameters';

export interface ProvenanceCount {
  /** An attribute path, `labels file <path>`, `data.files.labels.fixed.<name>`, or the source's own labels. */
  from: string;
  /** Lightcones whose value came from there. */
  count: number;
}

/** Where a source that records no provenance takes `name` from. */
function ownLabels(data: ResolvedData, name: ParameterName): string {
  if (data.source === 'simulator') return 'the simulator draws (data.simulator.priors)';
  switch (data.files.format) {
    case 'npz':
      return `label[${data.files.label_order.indexOf(schemaParameterNames[name]) - 6}] of each .npz (data.files.label_order)`;
    case 'npy':
      return `"${schemaParameterNames[name]}" of the .json beside each .npy`;
    case 'hdf5':
      return 'the files';
  }
}

/** A labels file's `path:line` counts as the file. */
function origin(from: string): string {
  const line = /^(.*\.json):\d+$/i.exec(from);
  return line ? `labels file ${line[1]}` : from;
}

/** Per parameter, each origin with its count of lightcones, most common first. */
export function labelProvenance(
  entries: readonly LightconeEntry[],
  data: ResolvedData,
): Record<ParameterName, ProvenanceCount[]> {
  const counts = byParameter(() => new Map<string, number>());
  for (const entry of entries) {
    for (const name of parameterNames) {
      const from = entry.provenance ? origin(entry.provenance[name]) : ownLabels(data, name);
      counts[name].set(from, (counts[name].get(from) ?? 0) + 1);
    }
  }
  return byParameter((name) =>
    [...counts[name]].map(([from, count]) => ({ from, count })).sort((a, b) => b.count - a.count),
  );
}
