// The sampler behind `run/sample` and `l3m sample`: forecasts slices of one test lightcone of a
// trained generation run with the KV cache and writes generated and true slices into the run's
// samples/ folder (growing slice by slice, with an index entry), returning the index entry.
// Every check that needs no data runs first: run folder, task, checkpoint, slice counts against the
// model's maximum sequence; the lightcone index and slice range are checked once the test split is read.
import type { SampleParams, SampleResult } from '../protocol/messages';
import type { SampleEntry } from '../protocol/run_folder';
import { checkForecastRange, forecastLightcone } from '../tasks/generation/lightcone_forecast';
import { odeOptionsOf } from '../tasks/generation/generation_setup';
import { loadGenerationRun, openGenerationRun } from '../tasks/generation/trained_run';

export interface SampleRunHooks {
  log?: (message: string) => void;
  /** After each generated slice; the entry is already in samples/index.json. */
  onSlice?: (done: number, total: number, entry: SampleEntry) => void;
}

export async function sampleRun(params: SampleParams, signal: AbortSignal, hooks: SampleRunHooks = {}): Promise<SampleResult> {
  const { lightcone, contextSlices, slices } = params;
  const firstSlice = params.firstSlice ?? 0;
  for (const [name, value, min] of [['lightcone', lightcone, 0], ['contextSlices', contextSlices, 0], ['slices', slices, 1], ['firstSlice', firstSlice, 0]] as const) {
    if (!Number.isInteger(value) || value < min) throw new Error(`Sampling: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}.`);
  }
  const header = await openGenerationRun(params.runDir);
  if (contextSlices + slices > header.maxSlices) {
    throw new Error(`Sampling: ${contextSlices} context + ${slices} generated slices exceed the model's maximum sequence of ${header.maxSlices} slices `
      + `(max_position_embeddings ${header.metadata.config.maxPositionEmbeddings}); ask for at most ${header.maxSlices} slices in all.`);
  }
  const loaded = await loadGenerationRun(header, hooks.log, signal);
  try {
    const cones = loaded.data.test.cones;
    if (lightcone >= cones.length) {
      throw new Error(`Sampling: the run's test split has ${cones.length} lightcones (0…${cones.length - 1}); lightcone ${lightcone} does not exist.`);
    }
    checkForecastRange(cones[lightcone], lightcone, firstSlice, contextSlices, slices);
    const entry = await forecastLightcone(loaded.model, {
      runDir: params.runDir, cone: cones[lightcone], lightcone, firstSlice, contextSlices, slices, seed: params.seed ?? 0,
      ode: odeOptionsOf(header.config), patchSize: loaded.data.patchSize, sliceScale: loaded.data.sliceScale, transform: loaded.data.transform,
      signal, onSlice: hooks.onSlice, onWarning: hooks.log,
    });
    return { entry };
  } finally {
    loaded.model.dispose();
  }
}
