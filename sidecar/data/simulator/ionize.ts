// Excursion-set ionisation field (docs/simulator.md#ionisation; 21cmFAST 3.1.2 `src/IonisationBox.c`
// ComputeIonizedBox): for filter radii from R_max down to the cell, a cell is ionised when ζ f_coll
// in the sphere around it exceeds the neutral fraction plus recombinations; f_coll is the conditional
// Press–Schechter erfc normalised to the Sheth–Tormen mean (ST_over_PS). Centre-pixel flagging
// (FIND_BUBBLE_ALGORITHM = 2), sharp-k filter, Poisson sampling of partially ionised cells.
// [APPROX] the box-mean x_e in the barrier; uniform-clumping recombinations.
import { DELTA_C, L_FACTOR, fixedAstro } from './constants';
import type { Cosmology } from './cosmology';
import type { Fft3 } from './fft';
import { erfc, type HaloModel } from './hmf';
import { applySharpK, type KGrid } from './kspace';
import type { Rng } from './rng';

// erfc on a fine table: the excursion set evaluates it N³ times per radius and node.
const ERFC_MIN = -6;
const ERFC_MAX = 6;
const ERFC_POINTS = 24001;
const ERFC_STEP = (ERFC_MAX - ERFC_MIN) / (ERFC_POINTS - 1);
const ERFC_TABLE = Float64Array.from({ length: ERFC_POINTS }, (_, i) => erfc(ERFC_MIN + i * ERFC_STEP));
function erfcFast(x: number): number {
  const u = (x - ERFC_MIN) / ERFC_STEP;
  if (u <= 0) return 2;
  if (u >= ERFC_POINTS - 1) return 0;
  const i = u | 0;
  return ERFC_TABLE[i] + (u - i) * (ERFC_TABLE[i + 1] - ERFC_TABLE[i]);
}

/** Filter radii from largest to smallest; the last is the cell (unfiltered step). */
export function filterRadii(boxMpc: number, n: number, deltaRFactor: number, clumping: number): number[] {
  const rMin = Math.max(fixedAstro.rBubbleMin, (L_FACTOR * boxMpc) / n);
  // Without inhomogeneous recombinations 21cmFAST caps bubbles at 15 Mpc.
  const rMax = Math.min(clumping > 0 ? fixedAstro.rBubbleMax : 15, L_FACTOR * boxMpc);
  const radii: number[] = [];
  for (let r = rMax; r > rMin * deltaRFactor; r /= deltaRFactor) radii.push(r);
  radii.push(rMin);
  return radii;
}

export interface IonizeInputs {
  z: number;
  zeta: number;
  deltaNl: Float32Array;
  deltaNlK: Float32Array;
  recombinations: Float32Array;
  xe: Float32Array;
  radii: number[];
}

export class IonizationSolver {
  private readonly filtered: Float32Array;
  private readonly recK: Float32Array;
  private readonly deltaR: Float32Array;
  private readonly recR: Float32Array;
  private readonly ionised: Uint8Array;

  constructor(
    private readonly cosmology: Cosmology,
    private readonly halos: HaloModel,
    private readonly grid: KGrid,
    private readonly fft: Fft3,
    private readonly rng: Rng,
  ) {
    const total = grid.n ** 3;
    this.filtered = new Float32Array(2 * fft.halfLength);
    this.recK = new Float32Array(2 * fft.halfLength);
    this.deltaR = new Float32Array(total);
    this.recR = new Float32Array(total);
    this.ionised = new Uint8Array(total);
  }

  /** Writes x_HI per cell into `xHI`; returns ζF_ST (the analytic ionised fraction). */
  solve(input: IonizeInputs, xHI: Float32Array): number {
    const { z, zeta, xe } = input;
    const c = this.cosmology;
    const mMin = this.halos.minimumMass(z);
    const fST = this.halos.fST(z);
    const total = xHI.length;
    let xeMean = 0;
    for (let q = 0; q < total; q++) xeMean += xe[q];
    xeMean /= total;
    if (zeta * fST < 1e-5) {
      for (let q = 0; q < total; q++) xHI[q] = 1 - xe[q];
      return zeta * fST;
    }
    const growth = c.growth(z);
    const sigmaMin2 = this.halos.power.sigmaOfMass(mMin) ** 2;
    const cellMass = c.radiusToMass((L_FACTOR * this.grid.boxMpc) / this.grid.n);
    this.fft.forward(input.recombinations, this.recK);
    this.ionised.fill(0);
    const radii = input.radii;
    for (let step = 0; step < radii.length; step++) {
      const radius = radii[step];
      const last = step === radii.length - 1;
      const massR = c.radiusToMass(radius);
      if (massR <= mMin && !last) continue;
      if (last) {
        this.deltaR.set(input.deltaNl);
        this.recR.set(input.recombinations);
      } else {
        applySharpK(this.grid, input.deltaNlK, radius, this.filtered);
        this.fft.inverse(this.filtered, this.deltaR);
        applySharpK(this.grid, this.recK, radius, this.filtered);
        this.fft.inverse(this.filtered, this.recR);
      }
      const variance = sigmaMin2 - this.halos.power.sigmaOfMass(Math.max(massR, cellMass)) ** 2;
      const denominator = growth * Math.sqrt(2 * Math.max(variance, 1e-12));
      const tableErfc = erfcFast;
      const deltaCrit = DELTA_C;
      const nPoisson = fixedAstro.nPoisson;
      let sumRaw = 0;
      // The k-space scratch (N²(N+2) floats ≥ N³) holds the raw erfc values for the normalisation pass.
      const fRaw = this.filtered;
      for (let q = 0; q < total; q++) {
        const value = variance > 1e-12 ? tableErfc((deltaCrit - this.deltaR[q]) / denominator) : 1e-6;
        fRaw[q] = value;
        sumRaw += value;
      }
      const norm = fST / Math.max(sumRaw / total, 1e-7);
      const neutralBarrier = 1 - xeMean;
      for (let q = 0; q < total; q++) {
        if (this.ionised[q]) continue;
        const fColl = fRaw[q] * norm;
        const onePlusDelta = 1 + this.deltaR[q];
        if (zeta * fColl >= neutralBarrier * (1 + Math.max(this.recR[q], 0) / onePlusDelta)) {
          this.ionised[q] = 1;
        } else if (last) {
          // Partial ionisation of the cell from its own collapsed mass, Poisson-sampled when few halos.
          const fCell = Math.min(fColl, 1);
          const massColl = fCell * cellMass * onePlusDelta;
          let f = fCell;
          if (massColl < mMin / 5) f = 0;
          else if (massColl / mMin < nPoisson) {
            f = (this.rng.poisson(nPoisson) * (massColl / nPoisson)) / (cellMass * onePlusDelta);
          }
          xHI[q] = Math.min(Math.max(1 - zeta * Math.min(f, 1) - xe[q], 0), 1);
        }
      }
    }
    for (let q = 0; q < total; q++) if (this.ionised[q]) xHI[q] = 0;
    return zeta * fST;
  }
}
