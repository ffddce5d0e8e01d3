// Public types of the built-in 21cm lightcone simulator (SIMULATOR.md §2, §3.12). The dataset
// generator, the CLI and the panels code against these; the physics modules fill them in.
import type { AstroParams } from '../parameters';

export type SimulatorPresetName = 'test' | 'default' | 'faithful' | 'half_paper' | 'global_signal';

/** Grid and numerical settings of one simulation (one row of SIMULATOR.md §3.12). */
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
  /** Clumping factor of the uniform-clumping recombination model (SIMULATOR.md §3.7; 0 = off). */
  clumping: number;
}

/** Per-node global history, ordered from high to low redshift as 21cmFAST stores it. */
export interface LightconeHistory {
  z: Float64Array;
  /** Volume-weighted mean neutral fraction. */
  xHI: Float64Array;
  /** Mean brightness temperature δT_21 [mK] (the global signal). */
  meanTb: Float64Array;
  /** Mean spin temperature [K]. */
  meanTs: Float64Array;
  /** Mean kinetic gas temperature [K]. */
  meanTk: Float64Array;
}

export interface Lightcone {
  /** δT_21 [mK], shape [n, n, nLos], C order (i*n + j)*nLos + k; k = line of sight, low z first. */
  brightness: Float32Array;
  shape: [number, number, number];
  /** Redshift of every line-of-sight slice (increasing). */
  redshifts: Float64Array;
  params: AstroParams;
  history: LightconeHistory;
  /** Thomson optical depth to the CMB (SIMULATOR.md §3.10). */
  tau: number;
}

export interface SimulateOptions {
  size: SimulatorPresetName | SimulatorSize;
  seed: number;
  /** Called with the completed fraction in [0, 1] and the current phase ('ics', 'node z=7.32', ...). */
  onProgress?: (fraction: number, phase: string) => void;
}
