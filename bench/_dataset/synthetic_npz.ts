// Synthetic lightcones in the paper's .npz layout (npz_source.ts: `image` float32 [x, y, t], t from low to
// high redshift, and `label` whose last six entries are the parameters in the reference code's order),
// for bench/dataset's paper-scale section. The voxels only need to cost what real ones cost to store and
// read: brightness temperatures of ±30 mK noise, zero where ionised, with a neutral fraction that rises
// with redshift, so the lowest-redshift slices are all zero (what trimming cuts) and the chunks compress
// about as a reionisation lightcone does. Cones are written one at a time, so memory stays at one cone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { byParameter, parameterInfo } from '../../sidecar/data/parameters';

export interface SyntheticShape {
  nx: number;
  ny: number;
  nt: number;
}

/** Half the paper's 140 × 140 × 2350 cones. */
export const halfPaperShape: SyntheticShape = { nx: 70, ny: 70, nt: 1175 };

/** Writes `count` cones lc00000.npz … into `folder`; returns the bytes written. */
export function writeSyntheticNpz(folder: string, count: number, shape: SyntheticShape, seed = 1): number {
  mkdirSync(folder, { recursive: true });
  const { nx, ny, nt } = shape;
  const image = new Float32Array(nx * ny * nt);
  let state = seed >>> 0;
  const uniform = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  // Fully ionised below 10 % of the slices, fully neutral above 50 %, linear between.
  const neutral = (k: number) => Math.min(1, Math.max(0, (k / nt - 0.1) / 0.4));
  let bytes = 0;
  for (let c = 0; c < count; c++) {
    for (let k = 0; k < nt; k++) {
      const keep = neutral(k);
      for (let ij = 0; ij < nx * ny; ij++) image[ij * nt + k] = uniform() < keep ? uniform() * 60 - 30 : 0;
    }
    // Parameters spread over the priors, so labels pass the loader's prior check.
    const params = byParameter((name) => {
      const { min, max } = parameterInfo[name];
      return min + (max - min) * (0.05 + 0.9 * uniform());
    });
    const file = encodeLightconeNpz(image, [nx, ny, nt], labelFromParams(params));
    writeFileSync(join(folder, `lc${String(c).padStart(5, '0')}.npz`), file);
    bytes += file.byteLength;
  }
  return bytes;
}
