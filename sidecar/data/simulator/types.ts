// Public types of the built-in 21cm lightcone simulator (docs/simulator.md#presets). The dataset
// generator, the CLI and the panels code against these; the physics modules fill them in.
import type { AstroParams } from '../parameters';
import type { SimulatorPresetName, SimulatorSize } from '../../../schemas/simulator_presets';

export type { SimulatorPresetName, SimulatorSize };

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
  /** Thomson optical depth to the CMB (docs/simulator.md#observables). */
  tau: number;
}

export interface SimulateOptions {
  size: SimulatorPresetName | SimulatorSize;
  seed: number;
  /** Called with the completed fraction in [0, 1] and the current phase ('ics', 'node z=7.32', ...). */
  onProgress?: (fraction: number, phase: string) => void;
}
