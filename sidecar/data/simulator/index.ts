// Public entry point of the built-in 21cm lightcone simulator (docs/simulator.md). The dataset generator
// builds on `simulateLightcone`, `sampleParams`, `isAccepted` and `simulatorVersion`.
import { parameterInfo, type AstroParams } from '../parameters';
import { Rng } from './rng';
import type { Lightcone } from './types';

export type { Lightcone, LightconeHistory, SimulateOptions, SimulatorPresetName, SimulatorSize } from './types';
export { simulatorPresets, simulatorVersion, resolveSize } from './presets';
export { simulateLightcone } from './simulate';

/**
 * Draws the `index`-th parameter set of a dataset with the given seed, from the priors of the
 * dataset generator (docs/simulator.md#parameters): m_WDM, Ω_m, E_0 and ζ uniform; T_vir and L_X log-uniform,
 * i.e. uniform in the stored log10 values. The same (seed, index) always gives the same draw.
 */
export function sampleParams(seed: number, index: number): AstroParams {
  if (!Number.isInteger(index) || index < 0) {
    throw new Error(`sampleParams: index must be a non-negative integer, got ${index}`);
  }
  const rng = new Rng(seed, 0x5a3f0000 + index);
  const draw = (name: keyof AstroParams): number => {
    const { min, max } = parameterInfo[name];
    return min + (max - min) * rng.uniform();
  };
  return {
    mWDM: draw('mWDM'),
    omegaM: draw('omegaM'),
    E0: draw('E0'),
    log10LX: draw('log10LX'),
    log10Tvir: draw('log10Tvir'),
    zeta: draw('zeta'),
  };
}

/** Dataset acceptance cut of 3D-21cmPIE-Net `runSimulations.py` (docs/simulator.md#dataset). */
export const acceptance = { maxTau: 0.089, maxNeutralAtZMin: 0.1 } as const;

/**
 * Rejects cones that reionise too early (τ_e > 0.089) or not by the end (⟨x_HI⟩ > 0.1 at the lowest
 * node, z = 5 for the dataset presets), as the paper's dataset generator does.
 */
export function isAccepted(cone: Lightcone): { ok: boolean; reason?: string } {
  const { z, xHI } = cone.history;
  const last = xHI.length - 1;
  if (!(cone.tau <= acceptance.maxTau)) {
    return { ok: false, reason: `Thomson optical depth τ = ${cone.tau.toFixed(4)} > ${acceptance.maxTau}` };
  }
  if (last < 0 || !(xHI[last] <= acceptance.maxNeutralAtZMin)) {
    return {
      ok: false,
      reason: `neutral fraction x_HI(z=${z[last]?.toFixed(2)}) = ${xHI[last]?.toFixed(3)} > ${acceptance.maxNeutralAtZMin}`,
    };
  }
  return { ok: true };
}
