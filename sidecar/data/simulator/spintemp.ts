// Per-cell spin temperature (docs/simulator.md#spin-temperature; 21cmFAST 3.1.2 `SpinTemperatureBox.c`, non-mass-
// dependent branch). Sources are summed over shells of the linear density smoothed once per cone
// [APPROX: 21cmFAST smooths the evolved field at every node]; each shell's star-formation weight
// follows the conditional Press–Schechter derivative and is normalised to the global ST rate.
import { A10_HYPERFINE, DELTA_C, K_B, L_FACTOR, T21, T_CMB0, fixedAstro } from './constants';
import type { Cosmology } from './cosmology';
import type { Fft3 } from './fft';
import type { HaloModel } from './hmf';
import type { InitialConditions } from './ics';
import { applyTopHat, type KGrid } from './kspace';
import { TemperatureRateTable, fHeat, lookup, recfast } from './atomic';
import { ShellModel } from './shells';

export interface SpinState {
  tk: Float32Array;
  xe: Float32Array;
  ts: Float32Array;
}

export class SpinTemperature {
  readonly state: SpinState;
  private readonly shells: ShellModel;
  /** Smoothed linear density per shell (null: shell wider than half the box, treated as uniform). */
  private readonly shellDensity: Array<Float32Array | null>;
  private readonly shellSigma: Float64Array;
  private readonly heat: Float64Array;
  private readonly ion: Float64Array;
  private readonly lyaX: Float64Array;
  private readonly lyaStar: Float64Array;
  private readonly weight: Float32Array;
  private previousZ: number | null = null;
  private readonly rates = new TemperatureRateTable();

  constructor(
    private readonly cosmology: Cosmology,
    private readonly halos: HaloModel,
    private readonly ics: InitialConditions,
    grid: KGrid,
    fft: Fft3,
    shellCount: number,
    zeta: number,
    log10LX: number,
    e0: number,
  ) {
    const total = grid.n ** 3;
    const cell = grid.boxMpc / grid.n;
    this.shells = new ShellModel(cosmology, halos, cell, shellCount, zeta, log10LX, e0);
    const scratch = new Float32Array(ics.delta0K.length);
    this.shellDensity = Array.from(this.shells.radii, (radius, r) => {
      if (r === 0) return ics.delta0;
      if (radius >= grid.boxMpc / 2) return null;
      applyTopHat(grid, ics.delta0K, radius, scratch);
      const field = new Float32Array(total);
      fft.inverse(scratch, field);
      return field;
    });
    this.shellSigma = Float64Array.from(this.shells.radii, (radius, r) =>
      halos.power.sigmaOfMass(cosmology.radiusToMass(r === 0 ? L_FACTOR * cell : radius)),
    );
    // The gas starts from RECFAST at Z_HEAT_MAX = 35 (the first node below it steps from there).
    const start = recfast(35);
    this.state = {
      tk: new Float32Array(total).fill(start.tk),
      xe: new Float32Array(total).fill(start.xe),
      ts: new Float32Array(total),
    };
    this.heat = new Float64Array(total);
    this.ion = new Float64Array(total);
    this.lyaX = new Float64Array(total);
    this.lyaStar = new Float64Array(total);
    this.weight = new Float32Array(total);
  }

  /**
   * Advances T_k and x_e to the node at z′ and computes T_s there. Above zMax (no sources) the gas
   * follows RECFAST and only collisional coupling acts.
   */
  step(zPrime: number, zMax: number): void {
    const c = this.cosmology;
    const { tk, xe } = this.state;
    if (zPrime > zMax) {
      const mean = recfast(zPrime);
      tk.fill(mean.tk);
      xe.fill(mean.xe);
      this.lyaX.fill(0);
      this.lyaStar.fill(0);
      this.spinTemperature(zPrime);
      return;
    }
    const dz = zPrime - (this.previousZ ?? zMax);
    this.previousZ = zPrime;
    let xeMean = 0;
    for (let q = 0; q < xe.length; q++) xeMean += xe[q];
    xeMean /= xe.length;
    this.accumulateSources(zPrime, xeMean);

    const growth = c.growth(zPrime);
    const dGrowth = c.dGrowthDz(zPrime);
    const dtdz = c.dtdz(zPrime);
    const tGamma = T_CMB0 * (1 + zPrime);
    const nB = c.nB0 * (1 + zPrime) ** 3;
    const compton = ((-1.51e-4 / (c.hubble(zPrime) / c.hubble0) / c.h) * tGamma ** 4) / (1 + zPrime);
    const adiabatic = ((1 + zPrime) / (1 + zPrime - dz)) ** 2;
    // Module imports are hoisted into locals: under tsx/CommonJS each imported binding is a getter,
    // which costs more than the arithmetic in these per-cell loops.
    const heatFraction = fHeat;
    const interpolateRate = lookup;
    const alphaTable = this.rates.alphaA;
    const maxTk = fixedAstro.maxTk;
    const xeMeanHeat = heatFraction(xeMean);
    for (let q = 0; q < tk.length; q++) {
      const delta0 = this.ics.delta0[q];
      const delta = delta0 * growth;
      const t = tk[q];
      const x = xe[q];
      const dxe =
        dtdz *
        (this.ion[q] - interpolateRate(alphaTable, this.rates.position(t)) * 2 * x * x * c.fH * nB * (1 + delta));
      // Heating uses the local deposition fraction relative to the one in the shell kernels.
      const heating = this.heat[q] * (heatFraction(x) / xeMeanHeat);
      // Compression/expansion with the cell: (2/3) T dδ/dz / (1 + δ) = (2/3) T δ0 D′/(1 + δ0 D). Linear
      // theory lets δ0 D pass −1 in deep voids, where this term would diverge; 1 + δ is floored at 0.1.
      const structure = (2 / 3) * t * ((delta0 * dGrowth) / Math.max(1 + delta, 0.1));
      const dTk =
        structure -
        (dxe * t) / (1 + x) +
        compton * (x / (1 + x + c.fHe)) * (tGamma - t) +
        ((2 / 3) * dtdz * heating) / (K_B * (1 + x));
      xe[q] = Math.min(Math.max(x + dxe * dz, 0), 1 - 1e-7);
      // Adiabatic cooling T ∝ (1+z)² is applied exactly, so coarse node steps do not bias T_k.
      if (t < maxTk) {
        let next = t * adiabatic + dTk * dz;
        if (next < 0) next = tGamma;
        tk[q] = next;
      }
    }
    this.spinTemperature(zPrime);
  }

  /** Σ_r Ψ_r(x) × shell kernels into the heat/ion/Lyα arrays (docs/simulator.md#spin-temperature-shells). */
  private accumulateSources(zPrime: number, xeMean: number): void {
    const c = this.cosmology;
    const node = this.shells.node(zPrime, xeMean);
    this.heat.fill(0);
    this.ion.fill(0);
    this.lyaX.fill(0);
    this.lyaStar.fill(0);
    const total = this.heat.length;
    const uniform = [0, 0, 0, 0];
    for (let r = 0; r < node.zShell.length; r++) {
      const zs = node.zShell[r];
      const meanPsi = node.dzShell[r] * node.sfrWeight[r];
      if (!(meanPsi > 0)) continue;
      const growth = c.growth(zs);
      const sigmaMin = this.halos.power.sigmaOfMass(this.halos.minimumMass(zs));
      const variance = sigmaMin ** 2 - this.shellSigma[r] ** 2;
      const field = this.shellDensity[r];
      if (field === null || variance <= 1e-4 * sigmaMin ** 2) {
        // Uniform shell: every cell sees the box-mean source density.
        uniform[0] += meanPsi * node.heat[r];
        uniform[1] += meanPsi * node.ion[r];
        uniform[2] += meanPsi * node.lyaX[r];
        uniform[3] += meanPsi * node.lyaStar[r];
        continue;
      }
      // |dF_cond/dz″| ∝ exp(−X²), X = (δ_c/D − δ_R)/(√2 s); the constant factors cancel in the
      // normalisation to the box mean, so only the exponential and the (1 + δ_R D) weight remain.
      const s = Math.sqrt(2 * variance);
      const threshold = DELTA_C / growth;
      let sum = 0;
      for (let q = 0; q < total; q++) {
        const d = field[q];
        const xArg = (threshold - d) / s;
        const w = Math.max(0, 1 + d * growth) * Math.exp(-xArg * xArg);
        this.weight[q] = w;
        sum += w;
      }
      if (!(sum > 0)) continue;
      const scale = (meanPsi * total) / sum;
      const kh = node.heat[r] * scale;
      const ki = node.ion[r] * scale;
      const kx = node.lyaX[r] * scale;
      const ks = node.lyaStar[r] * scale;
      for (let q = 0; q < total; q++) {
        const w = this.weight[q];
        this.heat[q] += w * kh;
        this.ion[q] += w * ki;
        this.lyaX[q] += w * kx;
        this.lyaStar[q] += w * ks;
      }
    }
    for (let q = 0; q < total; q++) {
      this.heat[q] += uniform[0];
      this.ion[q] += uniform[1];
      this.lyaX[q] += uniform[2];
      this.lyaStar[q] += uniform[3];
    }
  }

  /** T_s from collisional and Wouthuysen–Field coupling (docs/simulator.md#spin-temperature-ts; Hirata 2006 fits). */
  private spinTemperature(zPrime: number): void {
    const c = this.cosmology;
    const { tk, xe, ts } = this.state;
    const tGamma = T_CMB0 * (1 + zPrime);
    const growth = c.growth(zPrime);
    const a3 = (1 + zPrime) ** 3;
    const xcPrefactor = (a3 * T21) / (tGamma * A10_HYPERFINE);
    const { nH0, nB0 } = c;
    const xiPrefactor = Math.cbrt(1e-7 * (1.342881e-7 / c.hubble(zPrime)) * c.nH0 * a3);
    const interpolateRate = lookup;
    const { kappaHH, kappaEH, kappaPH } = this.rates;
    for (let q = 0; q < tk.length; q++) {
      // Without X-ray heating, gas in voids cools adiabatically far below 1 K by z ≈ 6, where the
      // Hirata (2006) fits for x̃_α (and the κ tables) no longer hold and the iteration can reach
      // T_s ≤ 0; the couplings are evaluated at T_k ≥ 1 K instead (the κ tables are clamped there too).
      const t = Math.max(tk[q], 1);
      const x = xe[q];
      const onePlusDelta = Math.max(1 + this.ics.delta0[q] * growth, 1e-3);
      const u = this.rates.position(t);
      const xc =
        onePlusDelta *
        xcPrefactor *
        ((1 - x) * nH0 * interpolateRate(kappaHH, u) +
          x * nB0 * interpolateRate(kappaEH, u) +
          x * nH0 * interpolateRate(kappaPH, u));
      const jAlpha = this.lyaStar[q] + this.lyaX[q] * onePlusDelta;
      let spin: number;
      if (jAlpha > 1e-20) {
        const xi = xiPrefactor * Math.cbrt((onePlusDelta * (1 - x)) / (t * t));
        const x0 =
          ((1.66e11 / (1 + zPrime)) * jAlpha) / (1 + 2.98394 * xi + 1.53583 * xi * xi + 3.85289 * xi * xi * xi);
        spin = tGamma;
        for (let iteration = 0; iteration < 50; iteration++) {
          const previous = spin;
          const xAlpha =
            (1 - 0.0631789 / t + 0.115995 / (t * t) - 0.401403 / (t * spin) + 0.336463 / (t * t * spin)) * x0;
          spin =
            (1 + xAlpha + xc) / (1 / tGamma + xAlpha * (1 / t + 0.405535 / (t * spin) - 0.405535 / (t * t)) + xc / t);
          if (Math.abs(spin - previous) / Math.abs(spin) < 1e-3) break;
        }
      } else {
        spin = (1 + xc) / (1 / tGamma + xc / t);
      }
      ts[q] = Math.abs(spin);
    }
  }
}
