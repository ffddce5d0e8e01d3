// Gaussian initial conditions (docs/simulator.md#initial-conditions; after 21cmFAST 3.1.2 `src/GenerateICs.c`).
// Seeded white noise is coloured in Fourier space with sqrt(P(k) N³/V), smoothed by the real-space
// top-hat of one cell (what 21cmFAST does when it subsamples its 3N grid to N), giving δ0 linearly
// extrapolated to z = 0. The Zel'dovich displacement per unit growth is ψ = ∇∇⁻²δ0, ψ̃ = i k/k² δ̃.
// [APPROX] generated directly at N rather than at 3N.
import { L_FACTOR } from './constants';
import type { Fft3 } from './fft';
import { applyTopHat, type KGrid } from './kspace';
import type { LinearPower } from './powerspec';
import { Rng } from './rng';

export interface InitialConditions {
  /** Linear density at z = 0 on the N³ grid. */
  delta0: Float32Array;
  /** Its half-complex transform (unnormalised forward FFT). */
  delta0K: Float32Array;
  /** Displacement per unit growth [Mpc] along x, y, z. */
  psi: [Float32Array, Float32Array, Float32Array];
}

export function generateInitialConditions(power: LinearPower, grid: KGrid, fft: Fft3, seed: number): InitialConditions {
  const { n, boxMpc } = grid;
  const total = n * n * n;
  const noise = new Float32Array(total);
  new Rng(seed, 1).fillNormal(noise);
  const deltaK = new Float32Array(2 * fft.halfLength);
  fft.forward(noise, deltaK);
  // ⟨|w̃_k|²⟩ = N³, so the amplitude sqrt(P N³/V)·w̃/N³ after the 1/N³ inverse gives ⟨|δ_k|²⟩ = P V.
  const volume = boxMpc ** 3;
  for (let idx = 0; idx < grid.k.length; idx++) {
    const k = grid.k[idx];
    const amplitude = k > 0 ? Math.sqrt((power.power(k) * total) / volume) : 0;
    deltaK[2 * idx] *= amplitude;
    deltaK[2 * idx + 1] *= amplitude;
  }
  applyTopHat(grid, deltaK, (L_FACTOR * boxMpc) / n, deltaK);
  const delta0 = new Float32Array(total);
  fft.inverse(deltaK, delta0);

  const psi: [Float32Array, Float32Array, Float32Array] = [
    new Float32Array(total),
    new Float32Array(total),
    new Float32Array(total),
  ];
  const scratch = new Float32Array(2 * fft.halfLength);
  const components = [grid.kx, grid.ky, grid.kz];
  for (let axis = 0; axis < 3; axis++) {
    const ka = components[axis];
    for (let idx = 0; idx < grid.k.length; idx++) {
      const k2 = grid.k[idx] * grid.k[idx];
      const factor = k2 > 0 ? ka[idx] / k2 : 0;
      // Multiplication by i·factor: (re, im) → (−im·factor, re·factor).
      scratch[2 * idx] = -deltaK[2 * idx + 1] * factor;
      scratch[2 * idx + 1] = deltaK[2 * idx] * factor;
    }
    fft.inverse(scratch, psi[axis]);
  }
  return { delta0, delta0K: deltaK, psi };
}
