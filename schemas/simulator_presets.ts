// The built-in simulator's size presets, as data: the config's checks (transverse cells, slices
// per cone) read them without loading the simulator, and the simulator takes its grids from them.

export type SimulatorPresetName = 'test' | 'default' | 'faithful' | 'half_paper' | 'paper_coarse' | 'global_signal';

/** Grid and numerical settings of one simulation (one row of docs/simulator.md#presets). */
export interface SimulatorSize {
  /** Cells per side of the coeval boxes (and of the lightcone's transverse slices). */
  n: number;
  /** Comoving side length of the box [Mpc] (not Mpc/h). */
  boxMpc: number;
  /** Number of lightcone cells along the line of sight, counted from zMin (paper: fixed 2350 cells). */
  nLos: number;
  /** Redshift of the first lightcone slice and of the lowest node (dataset: 5). */
  zMin: number;
  /** Highest redshift at which sources and the spin-temperature evolution start (21cmFAST Z_HEAT_MAX = 35). */
  zMax: number;
  /** Node log-scroll factor: (1 + z_{i+1}) = factor (1 + z_i) (21cmFAST ZPRIME_STEP_FACTOR = 1.02). */
  zStepFactor: number;
  /** Ratio of successive filter radii in the excursion set (21cmFAST DELTA_R_HII_FACTOR = 1.1). */
  deltaRFactor: number;
  /** Number of spin-temperature shells out to 500 Mpc (21cmFAST NUM_FILTER_STEPS_FOR_Ts = 40). */
  tsShells: number;
  /** Clumping factor of the uniform-clumping recombination model (docs/simulator.md#ionisation; 0 = off). */
  clumping: number;
}

// Size presets of the built-in simulator (docs/simulator.md#presets). The cell size is 3.125 Mpc in all but
// `half_paper`, so a fixed nLos = 1024 cells reaches as far as the paper's 2350 × 1.43 Mpc cut
// (3200 vs 3357 Mpc): the far-end redshift of a cone then depends on Ω_m, as in the paper's data.
export const simulatorPresets: Readonly<Record<SimulatorPresetName, Readonly<SimulatorSize>>> = {
  /** Unit tests and CI: coarse nodes, few filter radii and shells; well under a second. */
  test: {
    n: 32,
    boxMpc: 100,
    nLos: 1024,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.1,
    deltaRFactor: 1.3,
    tsShells: 12,
    clumping: 3,
  },
  /**
   * The quickstart's built-in training set: small boxes so that a few dozen cones are made in well
   * under a minute on two cores; same cell size as `faithful`.
   */
  default: {
    n: 32,
    boxMpc: 100,
    nLos: 1024,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.04,
    deltaRFactor: 1.2,
    tsShells: 16,
    clumping: 3,
  },
  /** 21cmFAST's own numerical settings on a 64³, 200 Mpc box (validation). */
  faithful: {
    n: 64,
    boxMpc: 200,
    nLos: 1024,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.02,
    deltaRFactor: 1.1,
    tsShells: 40,
    clumping: 3,
  },
  /**
   * Exactly half the paper's resolution: 70 cells over 200 Mpc, 2.857 Mpc cells (2×2×2 binning of the
   * 140-cell data) and 1175 = 2350/2 line-of-sight cells, the paper's fixed-length cut.
   */
  half_paper: {
    n: 70,
    boxMpc: 200,
    nLos: 1175,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.02,
    deltaRFactor: 1.1,
    tsShells: 40,
    clumping: 3,
  },
  /**
   * The paper's grid at full size: 140 cells over 200 Mpc (1.43 Mpc cells) and its fixed cut of 2350
   * line-of-sight cells, so 14-cell patches tile a slice 10 × 10 as in the paper. The numerics are `test`'s
   * coarse node steps, filter radii and shells, so that the few cones a run of the paper's shapes needs are
   * made in minutes rather than hours; the physics is coarser than `faithful`'s.
   */
  paper_coarse: {
    n: 140,
    boxMpc: 200,
    nLos: 2350,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.1,
    deltaRFactor: 1.3,
    tsShells: 12,
    clumping: 3,
  },
  /**
   * The regression quickstart's set: the global signal is the box mean of each slice, and the box mean
   * of the density is the cosmic mean by construction (the k = 0 mode is zero on the periodic grid), so
   * a small transverse box loses little for regression while a cone costs about a fifth of `default`'s.
   * Same 3.125 Mpc cells and nLos as `default` (the Ω_m-dependent far end of the fixed-length cut is
   * kept); coarser node steps and filter radii like `test`.
   */
  global_signal: {
    n: 16,
    boxMpc: 50,
    nLos: 1024,
    zMin: 5,
    zMax: 35,
    zStepFactor: 1.08,
    deltaRFactor: 1.3,
    tsShells: 12,
    clumping: 3,
  },
};

/**
 * The comoving side [Mpc] of a slice of the built-in simulator's `preset` that has `cells` cells a side;
 * undefined for an unknown preset or a slice of another size (cut or binned after simulation).
 */
export function simulatorSliceSideMpc(preset: string, cells: number): number | undefined {
  const size = Object.entries(simulatorPresets).find(([name]) => name === preset)?.[1];
  return size && size.n === cells ? size.boxMpc : undefined;
}
