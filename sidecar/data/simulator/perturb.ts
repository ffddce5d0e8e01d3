// Evolved density by the Zel'dovich approximation with cloud-in-cell deposit, and the line-of-sight
// velocity gradient (docs/simulator.md#zeldovich; after 21cmFAST 3.1.2 `src/PerturbField.c`).
// [APPROX] first-order ZA only (21cmFAST adds 2LPT) and CIC on the N grid (3.1.2: NGP on 3N).
import type { Fft3 } from './fft';
import type { InitialConditions } from './ics';
import type { KGrid } from './kspace';

/** 21cmFAST's INITIAL_REDSHIFT: particles start displaced by D(300)ψ with mass ∝ 1 + D(300)δ0. */
export const INITIAL_REDSHIFT = 300;

/**
 * δ_NL(x) at growth D by moving one particle per cell from q to q + (D − D_init)ψ(q) and depositing
 * its mass (1 + D_init δ0(q)) with CIC weights on the periodic grid; clipped at −1 + 1e-7.
 */
export function zeldovichDensity(
  ics: InitialConditions,
  n: number,
  cellMpc: number,
  growth: number,
  growthInit: number,
  out: Float32Array,
): void {
  out.fill(0);
  const [psiX, psiY, psiZ] = ics.psi;
  const step = (growth - growthInit) / cellMpc;
  let totalMass = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        const q = (i * n + j) * n + k;
        const mass = 1 + growthInit * ics.delta0[q];
        totalMass += mass;
        const ux = i + step * psiX[q];
        const uy = j + step * psiY[q];
        const uz = k + step * psiZ[q];
        const ix = Math.floor(ux);
        const iy = Math.floor(uy);
        const iz = Math.floor(uz);
        const fx = ux - ix;
        const fy = uy - iy;
        const fz = uz - iz;
        const x0 = ((ix % n) + n) % n;
        const y0 = ((iy % n) + n) % n;
        const z0 = ((iz % n) + n) % n;
        const x1 = x0 + 1 === n ? 0 : x0 + 1;
        const y1 = y0 + 1 === n ? 0 : y0 + 1;
        const z1 = z0 + 1 === n ? 0 : z0 + 1;
        const wx0 = (1 - fx) * mass;
        const wx1 = fx * mass;
        const r00 = (x0 * n + y0) * n;
        const r01 = (x0 * n + y1) * n;
        const r10 = (x1 * n + y0) * n;
        const r11 = (x1 * n + y1) * n;
        out[r00 + z0] += wx0 * (1 - fy) * (1 - fz);
        out[r00 + z1] += wx0 * (1 - fy) * fz;
        out[r01 + z0] += wx0 * fy * (1 - fz);
        out[r01 + z1] += wx0 * fy * fz;
        out[r10 + z0] += wx1 * (1 - fy) * (1 - fz);
        out[r10 + z1] += wx1 * (1 - fy) * fz;
        out[r11 + z0] += wx1 * fy * (1 - fz);
        out[r11 + z1] += wx1 * fy * fz;
      }
    }
  }
  const mean = totalMass / (n * n * n);
  for (let q = 0; q < out.length; q++) out[q] = Math.max(out[q] / mean - 1, -1 + 1e-7);
}

/**
 * ∂v_z/∂z [s⁻¹] from linear theory applied to δ_NL: IFFT[−f_v k_z²/k² δ̃_NL], f_v = (dD/dt)/D
 * (PerturbField.c velocity, then BrightnessTemperatureBox.c's gradient along the line of sight).
 */
export function velocityGradient(
  grid: KGrid,
  fft: Fft3,
  deltaNlK: Float32Array,
  growthRate: number,
  scratch: Float32Array,
  out: Float32Array,
): void {
  for (let idx = 0; idx < grid.k.length; idx++) {
    const k2 = grid.k[idx] * grid.k[idx];
    const factor = k2 > 0 ? (-growthRate * grid.kz[idx] * grid.kz[idx]) / k2 : 0;
    scratch[2 * idx] = deltaNlK[2 * idx] * factor;
    scratch[2 * idx + 1] = deltaNlK[2 * idx + 1] * factor;
  }
  fft.inverse(scratch, out);
}
