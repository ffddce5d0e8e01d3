// Forecasts slices of one test lightcone into the run folder: the first `contextSlices` true slices
// from `firstSlice` on condition the model, the next `slices` are generated patch by patch with the
// KV cache, and both the generated and the true slices (context included) are written
// (sample_writer.ts) as they come.
// A forecast that leaves the range of the true lightcone is said once, by slice: errors of a weak model
// add up slice after slice, and the inverse slice transform exponentiates them into brightness
// temperatures no simulation has (hundreds of thousands of mK), which a panel would otherwise show
// without comment.
import { join } from 'node:path';
import type { SampleEntry } from '../../protocol/run_folder';
import type { PreparedCone } from '../../data/batches';
import { windowPatches } from './generation_data';
import type { GenerationModel } from './generation_model';
import { timeStepValue } from './generation_prompt';
import { forecastSlices } from './generation_sampler';
import type { OdeOptions } from './ode_solvers';
import { recordSample, writeSampleArrays } from './sample_writer';
import { inverseTransformVoxels, type SliceTransformOptions } from '../../data/preprocessing';
import { normalizeParams } from '../../data/parameters';

export interface LightconeForecastOptions {
  runDir: string;
  cone: PreparedCone;
  /** Index of the cone in the test split (SampleEntry.lightcone). */
  lightcone: number;
  firstSlice: number;
  contextSlices: number;
  slices: number;
  seed: number;
  /** Training step of the checkpoint whose weights the model holds (SampleEntry.checkpointStep). */
  checkpointStep: number;
  /** Comoving side length of a slice [Mpc], when the dataset knows it. */
  boxMpc?: number;
  ode: Omit<OdeOptions, 't0' | 't1'>;
  patchSize: number;
  sliceScale: number;
  transform: SliceTransformOptions | undefined;
  signal?: AbortSignal;
  onSlice?: (done: number, total: number, entry: SampleEntry) => void;
  /** Called once if a generated slice leaves the true lightcone's range (see the header). */
  onWarning?: (message: string) => void;
}

/** The range a forecast of the cone may take: the true cone's range widened by half its span on each side (transformed space). */
export function forecastBounds(cone: PreparedCone): { low: number; high: number } {
  let min = Infinity;
  let max = -Infinity;
  // A block of slices at a time: a cone read from its store is never held whole.
  for (let start = 0; start < cone.nt; start += 32) {
    for (const v of cone.readSlices(start, Math.min(cone.nt, start + 32))) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const margin = 0.5 * (max - min);
  return { low: min - margin, high: max + margin };
}

/** The first generated slice (index) with a value outside the bounds, and that value; null when every slice stays inside. */
export function driftingSlice(
  bounds: { low: number; high: number },
  generated: Float32Array,
  perSlice: number,
): { index: number; value: number } | null {
  for (let i = 0; i < generated.length; i++) {
    const v = generated[i];
    if (!(v >= bounds.low && v <= bounds.high)) return { index: Math.floor(i / perSlice), value: v };
  }
  return null;
}

/** Checks a forecast request against a cone, before any work. */
export function checkForecastRange(
  cone: PreparedCone,
  lightcone: number,
  firstSlice: number,
  contextSlices: number,
  slices: number,
): void {
  if (!Number.isInteger(firstSlice) || firstSlice < 0 || firstSlice + contextSlices + slices > cone.nt) {
    throw new Error(
      `Test lightcone ${lightcone} has ${cone.nt} slices; slices ${firstSlice}…${firstSlice + contextSlices + slices - 1} ` +
        `(first slice ${firstSlice}, ${contextSlices} context + ${slices} generated) do not fit. Start earlier or generate fewer slices.`,
    );
  }
}

/** The file stem of a sample: lightcone, first generated slice, seed and checkpoint step. */
export function sampleStem(lightcone: number, firstGenerated: number, seed: number, checkpointStep: number): string {
  return `lc${String(lightcone).padStart(3, '0')}-t${String(firstGenerated).padStart(4, '0')}-seed${seed}-step${String(checkpointStep).padStart(6, '0')}`;
}

export async function forecastLightcone(
  model: GenerationModel,
  options: LightconeForecastOptions,
): Promise<SampleEntry> {
  const { cone, firstSlice, contextSlices, slices } = options;
  checkForecastRange(cone, options.lightcone, firstSlice, contextSlices, slices);
  const perSlice = model.patchesPerSlice * options.patchSize * options.patchSize;
  const all = windowPatches(cone, firstSlice, contextSlices + slices, options.patchSize);
  const samplesDir = join(options.runDir, 'samples');
  // The checkpoint's step is part of the name, so samples of the same stretch from several checkpoints
  // stay side by side and the inspector can step through training.
  const stem = sampleStem(options.lightcone, firstSlice + contextSlices, options.seed, options.checkpointStep);
  const files = { dir: samplesDir, stem, n: cone.n, patchSize: options.patchSize, transform: options.transform };
  // The truth file holds the context slices too (the inspector shows them as given to the model);
  // the generated file only the generated ones, which line up with the truth's last `slices`.
  const truthName = await writeSampleArrays(files, 'truth', all, contextSlices + slices);
  const generated = new Float32Array(slices * perSlice);
  const bounds = forecastBounds(cone);
  let warned = false;
  const entry: SampleEntry = {
    lightcone: options.lightcone,
    firstSlice: firstSlice + contextSlices,
    contextSlices,
    generated: `${stem}.generated.npy`,
    truth: truthName,
    checkpointStep: options.checkpointStep,
    createdAt: new Date().toISOString(),
  };
  const redshifts = cone.redshifts?.(firstSlice, firstSlice + contextSlices + slices);
  if (redshifts) entry.redshifts = redshifts;
  if (options.boxMpc !== undefined) entry.boxMpc = options.boxMpc;
  await forecastSlices(model, {
    params: normalizeParams(cone.params),
    timeStep: timeStepValue(firstSlice, options.sliceScale),
    context: all.slice(0, contextSlices * perSlice),
    contextSlices,
    slices,
    ode: options.ode,
    seed: options.seed,
    useCache: true,
    signal: options.signal,
    onSlice: async (index, patches) => {
      generated.set(patches, index * perSlice);
      if (!warned) {
        const drift = driftingSlice(bounds, patches, perSlice);
        if (drift) {
          warned = true;
          const inMk = (v: number) => {
            const x = options.transform ? inverseTransformVoxels(Float32Array.of(v), options.transform)[0] : v;
            if (!Number.isFinite(x)) return `${x > 0 ? '+' : '−'}∞ mK (beyond float32)`;
            return Math.abs(x) < 1e5 ? `${Math.round(x)} mK` : `${x.toExponential(1)} mK`;
          };
          options.onWarning?.(
            `Generated slice ${index + 1} of test lightcone ${options.lightcone} leaves the true lightcone's range ` +
              `(a value of ${inMk(drift.value)}, outside ${inMk(bounds.low)} … ${inMk(bounds.high)}): the forecast drifts, as a model that has not learned ` +
              'the slice-to-slice change lets its errors add up; its later slices are not physical. Train longer or generate fewer slices.',
          );
        }
      }
      // Not yet generated slices stay NaN, so a viewer can tell them from a generated zero.
      const partial = generated.slice();
      partial.fill(NaN, (index + 1) * perSlice);
      await writeSampleArrays(files, 'generated', partial, slices);
      if (index === 0) await recordSample(samplesDir, entry);
      options.onSlice?.(index + 1, slices, entry);
    },
  });
  return entry;
}
