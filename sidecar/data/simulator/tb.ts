// 21cm brightness temperature (docs/simulator.md#brightness-temperature; 21cmFAST 3.1.2
// `src/BrightnessTemperatureBox.c`; the paper's Eq. 30 generalised with the spin temperature):
// δT_b = 27 x_HI (1+δ) (Ω_b h²/0.023) sqrt(0.15/(Ω_m h²) (1+z)/10) (1 − T_γ/T_s) / (1 + (dv/dr)/H) mK.
import { T_CMB0, fixedAstro } from './constants';
import type { Cosmology } from './cosmology';

/** The prefactor 27 (Ω_b h²/0.023) sqrt(0.15/(Ω_m h²) (1+z)/10) [mK] (T0 = 25.7 mK at z = 8, fiducial). */
export function brightnessPrefactor(cosmology: Cosmology, z: number): number {
  const h2 = cosmology.h * cosmology.h;
  return 27 * ((cosmology.omegaB * h2) / 0.023) * Math.sqrt((0.15 / (cosmology.omegaM * h2)) * ((1 + z) / 10));
}

export interface BrightnessInputs {
  z: number;
  xHI: Float32Array;
  deltaNl: Float32Array;
  /** Spin temperature per cell (null: the T_s ≫ T_γ limit). */
  ts: Float32Array | null;
  /** ∂v_z/∂z per cell [s⁻¹] (null: no velocity term). */
  dvdz: Float32Array | null;
}

/** Fills `out` with δT_b [mK] and returns its box mean. */
export function brightnessTemperature(cosmology: Cosmology, input: BrightnessInputs, out: Float32Array): number {
  const { z, xHI, deltaNl, ts, dvdz } = input;
  const t0 = brightnessPrefactor(cosmology, z);
  const tGamma = T_CMB0 * (1 + z);
  const hubble = cosmology.hubble(z);
  const maxGradient = fixedAstro.maxDvDr * hubble;
  let sum = 0;
  for (let q = 0; q < out.length; q++) {
    let value = t0 * xHI[q] * (1 + deltaNl[q]);
    if (ts) value *= 1 - tGamma / ts[q];
    if (dvdz) value /= 1 + Math.min(Math.max(dvdz[q], -maxGradient), maxGradient) / hubble;
    out[q] = value;
    sum += value;
  }
  return sum / out.length;
}
