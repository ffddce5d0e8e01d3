// Derived observables (docs/simulator.md#observables): Thomson optical depth (21cmFAST `UsefulFunctions.c`
// tau_e) and the spherically averaged power spectrum Δ²(k) = k³P(k)/(2π²) of a periodic box.
import { SIGMA_T } from './constants';
import type { Cosmology } from './cosmology';
import { interpolate } from './cosmology';
import type { Fft3 } from './fft';
import { axisWavenumber } from './kspace';

/**
 * τ_e = σ_T [N_b0 ∫_3^{z_max} x_i (1+z)² |dr/dz| dz + (N_b0 + n_He0) ∫_0^3 (1+z)² |dr/dz| dz]: helium
 * singly ionised with hydrogen above z = 3 and doubly below; x_i = 1 below the lowest node.
 */
export function thomsonOpticalDepth(
  cosmology: Cosmology,
  nodeZ: ArrayLike<number>,
  nodeXHI: ArrayLike<number>,
): number {
  const order = Array.from(nodeZ, (_, i) => i).sort((a, b) => nodeZ[a] - nodeZ[b]);
  const zs = order.map((i) => nodeZ[i]);
  const xi = order.map((i) => 1 - nodeXHI[i]);
  const zTop = zs[zs.length - 1];
  const integrand = (z: number): number => {
    const ionised = z < zs[0] ? 1 : interpolate(zs, xi, z);
    return ionised * (1 + z) ** 2 * Math.abs(cosmology.drdz(z));
  };
  const simpson = (a: number, b: number, steps: number): number => {
    if (b <= a) return 0;
    const h = (b - a) / steps;
    let sum = integrand(a) + integrand(b);
    for (let i = 1; i < steps; i++) sum += integrand(a + i * h) * (i % 2 ? 4 : 2);
    return (sum * h) / 3;
  };
  const high = simpson(3, zTop, 2000);
  const low = simpson(0, 3, 200);
  return SIGMA_T * (cosmology.nB0 * high + (cosmology.nB0 + cosmology.nHe0) * low);
}

export interface PowerSpectrum {
  k: Float64Array;
  /** Dimensionless power Δ²(k) in the field's units squared (mK² for δT_b). */
  delta2: Float64Array;
  modes: Float64Array;
}

/** Δ²(k) of a periodic N³ field (mean removed), in `bins` logarithmic k bins from 2π/L to π N/L. */
export function powerSpectrum(field: Float32Array, n: number, boxMpc: number, fft: Fft3, bins = 12): PowerSpectrum {
  let mean = 0;
  for (let q = 0; q < field.length; q++) mean += field[q];
  mean /= field.length;
  const centred = Float32Array.from(field, (v) => v - mean);
  const spectrum = new Float32Array(2 * fft.halfLength);
  fft.forward(centred, spectrum);
  const nh = n / 2 + 1;
  const kMin = (2 * Math.PI) / boxMpc;
  const kMax = (Math.PI * n) / boxMpc;
  const logStep = Math.log(kMax / kMin) / bins;
  const sumK = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const count = new Float64Array(bins);
  const volume = boxMpc ** 3;
  const norm = volume / n ** 6;
  for (let i = 0; i < n; i++) {
    const kx = axisWavenumber(i, n, boxMpc);
    for (let j = 0; j < n; j++) {
      const ky = axisWavenumber(j, n, boxMpc);
      for (let m = 0; m < nh; m++) {
        const kz = (2 * Math.PI * m) / boxMpc;
        const k = Math.sqrt(kx * kx + ky * ky + kz * kz);
        if (k === 0) continue;
        const bin = Math.floor(Math.log(k / kMin) / logStep);
        if (bin < 0 || bin >= bins) continue;
        // Half-complex storage: modes with 0 < m < N/2 stand for themselves and their conjugates.
        const weight = m === 0 || m === n / 2 ? 1 : 2;
        const idx = 2 * ((i * n + j) * nh + m);
        const power = (spectrum[idx] ** 2 + spectrum[idx + 1] ** 2) * norm;
        sumK[bin] += weight * k;
        sumP[bin] += weight * power;
        count[bin] += weight;
      }
    }
  }
  const used = Array.from(count.keys()).filter((b) => count[b] > 0);
  const k = Float64Array.from(used, (b) => sumK[b] / count[b]);
  return {
    k,
    delta2: Float64Array.from(used, (b, i) => (k[i] ** 3 * (sumP[b] / count[b])) / (2 * Math.PI * Math.PI)),
    modes: Float64Array.from(used, (b) => count[b]),
  };
}
