// Size presets of the built-in simulator (SIMULATOR.md §3.12). The cell size is 3.125 Mpc in all but
// `half_paper`, so a fixed nLos = 1024 cells reaches as far as the paper's 2350 × 1.43 Mpc cut
// (3200 vs 3357 Mpc): the far-end redshift of a cone then depends on Ω_m, as in the paper's data.
import type { SimulatorPresetName, SimulatorSize } from './types';

export const simulatorPresets: Readonly<Record<SimulatorPresetName, Readonly<SimulatorSize>>> = {
  /** Unit tests and CI: coarse nodes, few filter radii and shells; well under a second. */
  test: { n: 32, boxMpc: 100, nLos: 1024, zMin: 5, zMax: 35, zStepFactor: 1.1, deltaRFactor: 1.3, tsShells: 12, clumping: 3 },
  /**
   * The quickstart's built-in training set: small boxes so that a few dozen cones are made in well
   * under a minute on two cores; same cell size as `faithful`.
   */
  default: { n: 32, boxMpc: 100, nLos: 1024, zMin: 5, zMax: 35, zStepFactor: 1.04, deltaRFactor: 1.2, tsShells: 16, clumping: 3 },
  /** 21cmFAST's own numerical settings on a 64³, 200 Mpc box (validation). */
  faithful: { n: 64, boxMpc: 200, nLos: 1024, zMin: 5, zMax: 35, zStepFactor: 1.02, deltaRFactor: 1.1, tsShells: 40, clumping: 3 },
  /**
   * Exactly half the paper's resolution: 70 cells over 200 Mpc, 2.857 Mpc cells (2×2×2 binning of the
   * 140-cell data) and 1175 = 2350/2 line-of-sight cells, the paper's fixed-length cut.
   */
  half_paper: { n: 70, boxMpc: 200, nLos: 1175, zMin: 5, zMax: 35, zStepFactor: 1.02, deltaRFactor: 1.1, tsShells: 40, clumping: 3 },
  /**
   * The regression quickstart's set: the global signal is the box mean of each slice, and the box mean
   * of the density is the cosmic mean by construction (the k = 0 mode is zero on the periodic grid), so
   * a small transverse box loses little for regression while a cone costs about a fifth of `default`'s.
   * Same 3.125 Mpc cells and nLos as `default` (the Ω_m-dependent far end of the fixed-length cut is
   * kept); coarser node steps and filter radii like `test`.
   */
  global_signal: { n: 16, boxMpc: 50, nLos: 1024, zMin: 5, zMax: 35, zStepFactor: 1.08, deltaRFactor: 1.3, tsShells: 12, clumping: 3 },
};

/**
 * Bump whenever the simulator's output for the same inputs changes: the dataset cache is keyed by it.
 */
export const simulatorVersion = '1.0.1';

/** Resolves a preset name or checks an explicit size, with an error naming the bad field. */
export function resolveSize(size: SimulatorPresetName | SimulatorSize): SimulatorSize {
  if (typeof size === 'string') {
    const preset = simulatorPresets[size];
    if (!preset) {
      throw new Error(`simulator size: unknown preset '${size}'; expected one of ${Object.keys(simulatorPresets).join(', ')}`);
    }
    return { ...preset };
  }
  const checks: Array<[keyof SimulatorSize, boolean, string]> = [
    ['n', Number.isInteger(size.n) && size.n >= 8 && size.n % 2 === 0, 'an even integer ≥ 8'],
    ['boxMpc', size.boxMpc > 0, 'a positive length in Mpc'],
    ['nLos', Number.isInteger(size.nLos) && size.nLos >= 1, 'a positive integer'],
    ['zMin', size.zMin >= 0 && size.zMin < size.zMax, 'a redshift ≥ 0 below zMax'],
    ['zMax', size.zMax <= 60, 'a redshift ≤ 60'],
    ['zStepFactor', size.zStepFactor > 1 && size.zStepFactor <= 1.5, 'a factor in (1, 1.5]'],
    ['deltaRFactor', size.deltaRFactor > 1 && size.deltaRFactor <= 2, 'a factor in (1, 2]'],
    ['tsShells', Number.isInteger(size.tsShells) && size.tsShells >= 4, 'an integer ≥ 4'],
    ['clumping', size.clumping >= 0, 'a clumping factor ≥ 0'],
  ];
  for (const [field, ok, expected] of checks) {
    if (!ok || !Number.isFinite(size[field])) {
      throw new Error(`simulator size: '${field}' = ${size[field]} is invalid; expected ${expected}`);
    }
  }
  return { ...size };
}
