// Shared helpers of the simulator tests: tiny sizes and the validation observables
// (docs/simulator.md#validation) from a cone's history.
import type { Lightcone, SimulatorSize } from '../../../sidecar/data/simulator';
import { fiducialParams, type AstroParams } from '../../../sidecar/data/parameters';

/** The fiducial model (docs/simulator.md#validation-targets): 21cmFAST defaults, cold dark matter (mWDM = Infinity). */
export const fiducialCdm: AstroParams = { ...fiducialParams, mWDM: Infinity };

/** A very small size for the many runs of the sensitivity tests (global quantities barely depend on N). */
export const tinySize: SimulatorSize = {
  n: 16,
  boxMpc: 50,
  nLos: 128,
  zMin: 5,
  zMax: 35,
  zStepFactor: 1.1,
  deltaRFactor: 1.4,
  tsShells: 8,
  clumping: 3,
};

export interface Observables {
  /** Redshift where ⟨x_HI⟩ crosses 0.5 (linear in z between nodes). */
  z50: number;
  /** Deepest mean δT_b [mK] and its redshift. */
  troughTb: number;
  troughZ: number;
  /** ⟨x_HI⟩ at the lowest node. */
  xHIEnd: number;
  tau: number;
}

export function observables(cone: Lightcone): Observables {
  const { z, xHI, meanTb } = cone.history;
  let z50 = Number.NaN;
  for (let i = 1; i < z.length; i++) {
    if (xHI[i - 1] >= 0.5 && xHI[i] < 0.5) {
      z50 = z[i - 1] + ((0.5 - xHI[i - 1]) / (xHI[i] - xHI[i - 1])) * (z[i] - z[i - 1]);
      break;
    }
  }
  let trough = 0;
  for (let i = 1; i < z.length; i++) if (meanTb[i] < meanTb[trough]) trough = i;
  return { z50, troughTb: meanTb[trough], troughZ: z[trough], xHIEnd: xHI[xHI.length - 1], tau: cone.tau };
}

/** ⟨x_HI⟩ at redshift zq, linear between nodes (history runs from high to low z). */
export function neutralFractionAt(cone: Lightcone, zq: number): number {
  const { z, xHI } = cone.history;
  for (let i = 1; i < z.length; i++) {
    if (z[i] <= zq && z[i - 1] >= zq) return xHI[i] + ((zq - z[i]) / (z[i - 1] - z[i])) * (xHI[i - 1] - xHI[i]);
  }
  return Number.NaN;
}
