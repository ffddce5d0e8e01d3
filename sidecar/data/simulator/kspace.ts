// Wavenumbers of the half-complex FFT layout and the filters applied there (21cmFAST
// `UsefulFunctions.c` filter_box: real-space top-hat, sharp-k). k in Mpc⁻¹ for a box of side L.
import { topHatWindow } from './powerspec';

export interface KGrid {
  n: number;
  boxMpc: number;
  /** Components k_x (= k_i), k_y, k_z and |k| for every half-complex index. */
  kx: Float32Array;
  ky: Float32Array;
  kz: Float32Array;
  k: Float32Array;
}

/** Signed wavenumber of FFT index m on an axis of n cells. */
export function axisWavenumber(m: number, n: number, boxMpc: number): number {
  return ((m <= n / 2 ? m : m - n) * 2 * Math.PI) / boxMpc;
}

export function makeKGrid(n: number, boxMpc: number): KGrid {
  const nh = n / 2 + 1;
  const size = n * n * nh;
  const grid: KGrid = {
    n,
    boxMpc,
    kx: new Float32Array(size),
    ky: new Float32Array(size),
    kz: new Float32Array(size),
    k: new Float32Array(size),
  };
  for (let i = 0; i < n; i++) {
    const kx = axisWavenumber(i, n, boxMpc);
    for (let j = 0; j < n; j++) {
      const ky = axisWavenumber(j, n, boxMpc);
      for (let m = 0; m < nh; m++) {
        const kz = (m * 2 * Math.PI) / boxMpc;
        const idx = (i * n + j) * nh + m;
        grid.kx[idx] = kx;
        grid.ky[idx] = ky;
        grid.kz[idx] = kz;
        grid.k[idx] = Math.sqrt(kx * kx + ky * ky + kz * kz);
      }
    }
  }
  return grid;
}

/** out = in × W_TH(kR) (real-space top-hat of radius R, HEAT_FILTER = 0). */
export function applyTopHat(grid: KGrid, input: Float32Array, radius: number, out: Float32Array): void {
  for (let idx = 0; idx < grid.k.length; idx++) {
    const w = topHatWindow(grid.k[idx] * radius);
    out[2 * idx] = input[2 * idx] * w;
    out[2 * idx + 1] = input[2 * idx + 1] * w;
  }
}

/** out = in with modes 0.413566994·k·R > 1 removed (sharp-k filter, HII_FILTER = 1 in 21cmFAST). */
export function applySharpK(grid: KGrid, input: Float32Array, radius: number, out: Float32Array): void {
  const kMax = 1 / (0.413566994 * radius);
  for (let idx = 0; idx < grid.k.length; idx++) {
    const keep = grid.k[idx] <= kMax ? 1 : 0;
    out[2 * idx] = input[2 * idx] * keep;
    out[2 * idx + 1] = input[2 * idx + 1] * keep;
  }
}
