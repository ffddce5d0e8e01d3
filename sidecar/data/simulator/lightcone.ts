// Node redshifts and lightcone assembly (docs/simulator.md#lightcone; 21cmFAST 3.1.2 `wrapper.py`
// _logscroll_redshifts, _setup_lightcone, _interpolate_in_redshift). Slice p of the cone sits at
// comoving distance χ(z_min) + p·Δ and takes coeval slice p mod N along the line of sight, linearly
// interpolated in distance between the two nodes that bracket it. Index 0 = z_min (lowest redshift).
import type { Cosmology } from './cosmology';

/** z_0 = z_min, (1 + z_{i+1}) = f (1 + z_i), until z ≥ zTop; returned from high to low z. */
export function nodeRedshifts(zMin: number, zTop: number, factor: number): number[] {
  const zs = [zMin];
  while (zs[zs.length - 1] < zTop) zs.push((1 + zs[zs.length - 1]) * factor - 1);
  return zs.reverse();
}

export class LightconeAssembler {
  readonly brightness: Float32Array;
  readonly redshifts: Float64Array;
  /** Distance of each slice beyond χ(z_min) [Mpc]. */
  private readonly distances: Float64Array;
  private readonly chiMin: number;
  private previous: { distance: number; box: Float32Array } | null = null;

  constructor(
    private readonly cosmology: Cosmology,
    private readonly n: number,
    private readonly nLos: number,
    cellMpc: number,
    zMin: number,
  ) {
    this.brightness = new Float32Array(n * n * nLos);
    this.chiMin = cosmology.comovingDistance(zMin);
    this.distances = Float64Array.from({ length: nLos }, (_, p) => p * cellMpc);
    this.redshifts = this.distances.map((d) => cosmology.redshiftAtDistance(this.chiMin + d));
  }

  /** Redshift of the last (farthest) slice: the cone's reach, set by Ω_m for a fixed nLos. */
  get farRedshift(): number {
    return this.redshifts[this.nLos - 1];
  }

  /** Adds the coeval box of the next node (nodes come from high to low z); `box` is copied as needed. */
  addNode(z: number, box: Float32Array): void {
    const distance = this.cosmology.comovingDistance(z) - this.chiMin;
    const previous = this.previous;
    if (previous) {
      const span = previous.distance - distance;
      const { n, nLos } = this;
      for (let p = 0; p < nLos; p++) {
        const d = this.distances[p];
        // Slices in [distance, previous.distance); the lowest node also takes the slice at exactly 0.
        if (!(d >= distance - 1e-9 && d < previous.distance)) continue;
        const wNear = span > 0 ? (previous.distance - d) / span : 1;
        const wFar = 1 - wNear;
        const s = p % n;
        for (let ij = 0; ij < n * n; ij++) {
          this.brightness[ij * nLos + p] = wNear * box[ij * n + s] + wFar * previous.box[ij * n + s];
        }
      }
    }
    this.previous = { distance, box: Float32Array.from(box) };
  }
}
