// The inspector's physical axes: which redshift each slice of a sample lies at and the frequency at
// which its 21cm line is observed, the comoving size of a slice, and the axis the global signal is
// drawn against. A sample (or a dataset preview) gives its slices' redshifts when its dataset knows
// them; without them the slices are labelled by index, with the reason said once.

/** Rest frequency of the 21cm hyperfine line of neutral hydrogen [MHz]. */
export const restFrequencyMHz = 1420.405751;

/** The frequency [MHz] at which a line emitted at the 21cm rest frequency at redshift z is observed. */
export function observedFrequencyMHz(z: number): number {
  return restFrequencyMHz / (1 + z);
}

/** The slices' redshifts, or why the slices can only be labelled by index. */
export type SliceGrid = { kind: 'redshift'; redshifts: number[] } | { kind: 'index'; reason: string };

/**
 * The redshift grid of `count` slices from what a sample entry or preview recorded (`source` names it
 * for the reason). A grid that is missing, too short or holds a redshift that is no redshift
 * (not finite, or ≤ −1, where the frequency would be infinite or negative) is no grid.
 */
export function sliceGrid(redshifts: readonly number[] | null | undefined, count: number, source: string): SliceGrid {
  if (!redshifts || redshifts.length === 0)
    return {
      kind: 'index',
      reason: `${source} records no redshifts (its dataset does not give them), so slices are labelled by index`,
    };
  if (redshifts.length < count)
    return {
      kind: 'index',
      reason: `${source} records ${redshifts.length} redshifts for ${count} slices, so slices are labelled by index`,
    };
  const bad = redshifts.findIndex((z) => !Number.isFinite(z) || z <= -1);
  if (bad >= 0)
    return {
      kind: 'index',
      reason: `${source} records redshift ${String(redshifts[bad])} for slice ${bad + 1}, which is no redshift (expected a finite number above −1), so slices are labelled by index`,
    };
  return { kind: 'redshift', redshifts: redshifts.slice(0, count) };
}

/** "z = 7.52 · 167.0 MHz" for slice `index` of a grid, or null for a grid of indices. */
export function redshiftLabel(grid: SliceGrid, index: number): string | null {
  if (grid.kind !== 'redshift') return null;
  const z = grid.redshifts[index];
  if (z === undefined) return null;
  return `z = ${z.toFixed(2)} · ${observedFrequencyMHz(z).toFixed(1)} MHz`;
}

/** What the global signal is drawn against. */
export type SignalAxis = 'redshift' | 'frequency';

/** The global signal's x values and their label: redshift or frequency when the grid is known, else the slice numbers. */
export function signalAxis(
  grid: SliceGrid,
  count: number,
  wanted: SignalAxis,
  slices: readonly number[],
): { x: number[]; label: string } {
  if (grid.kind === 'redshift') {
    const z = grid.redshifts.slice(0, count);
    return wanted === 'frequency'
      ? { x: z.map(observedFrequencyMHz), label: 'observed frequency [MHz]' }
      : { x: z, label: 'redshift z' };
  }
  if (slices.length >= count) return { x: slices.slice(0, count), label: 'lightcone slice' };
  return { x: Array.from({ length: count }, (_, s) => s), label: 'slice' };
}

/** Ticks [Mpc] for a visible stretch [from, to] of a slice side: 4–6 round values, with their positions as fractions of the stretch. */
export function mpcTicks(from: number, to: number): { value: number; at: number }[] {
  const span = to - from;
  if (!(span > 0)) return [];
  const raw = span / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => span / s <= 5) ?? 10 * power;
  const ticks: { value: number; at: number }[] = [];
  for (let v = Math.ceil(from / step - 1e-9) * step; v <= to + step * 1e-9; v += step)
    ticks.push({ value: Math.round(v / step) * step, at: (v - from) / span });
  return ticks;
}

/** A tick's text: whole numbers as they are, others with the digits the step needs. */
export function formatMpc(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}

/**
 * The power spectrum in physical units from power_spectrum.ts's (k in units of the fundamental mode
 * 2π/L, P = |δ̃|²/N² in mK²): the dimensionless Δ²(k) = k²P(k)/2π of a 2D field [mK²], which in those
 * units is 2π k² P / N² whatever the side L, and k in Mpc⁻¹ when the side is known (k · 2π/L).
 * Summed over ln k, Δ² gives the slice's variance, as the paper's spectra do.
 */
export function physicalSpectrum(
  k: readonly number[],
  power: readonly (number | null)[],
  cells: number,
  sideMpc: number | null,
): { k: number[]; delta2: (number | null)[] } {
  return {
    k: sideMpc === null ? [...k] : k.map((v) => (v * 2 * Math.PI) / sideMpc),
    delta2: power.map((p, i) => (p === null ? null : (2 * Math.PI * k[i] * k[i] * p) / cells)),
  };
}

/** The spectrum chart's k axis label: Mpc⁻¹ when the slice side is known. */
export function spectrumKLabel(sideMpc: number | null): string {
  return sideMpc === null ? 'k [2π/L] (the slice side in Mpc is unknown)' : 'k [Mpc⁻¹]';
}
