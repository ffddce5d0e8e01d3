// Linear matter power spectrum and σ(M) (docs/simulator.md#power-spectrum), ported from 21cmFAST 3.1.2 `src/ps.c`
// (TFset_parameters, TFmdm, init_ps R_CUTOFF, sigma_z0, power_in_k): the Eisenstein & Hu (1999)
// "mdm" transfer function with a vanishing neutrino fraction (no BAO wiggles), times the thermal-relic
// warm-dark-matter cut-off of Bode, Ostriker & Turok (2001) with the scale of Barkana, Haiman &
// Ostriker (2001). k in Mpc⁻¹, P in Mpc³, z = 0.
import { BODE_E, BODE_N, BODE_V, T_CMB0, fixedAstro, fixedCosmology } from './constants';
import type { Cosmology } from './cosmology';
import { interpolateUniform } from './cosmology';

const LN_K_MIN = Math.log(1e-5);
const LN_K_MAX = Math.log(5e3);
const K_POINTS = 4000;
const LN_M_MIN = Math.log(1e4);
const LN_M_MAX = Math.log(1e17);
const M_POINTS = 520;

/** Real-space top-hat window in Fourier space, W(x) = 3(sin x − x cos x)/x³. */
export function topHatWindow(x: number): number {
  if (x < 1e-4) return 1;
  return (3 * (Math.sin(x) - x * Math.cos(x))) / (x * x * x);
}

export class LinearPower {
  /** WDM cut-off radius R_c [Mpc] (0 for cold dark matter). */
  readonly cutoffRadius: number;
  readonly sigmaNorm: number;
  private readonly alphaNu: number;
  private readonly betaC: number;
  private readonly soundHorizon: number;
  private readonly omhh: number;
  private readonly theta: number;
  private readonly fNu = 1e-10;
  private readonly shapeOnLnK: Float64Array;
  private readonly lnSigmaTable: Float64Array;
  private readonly dLnSigmaTable: Float64Array;
  private readonly dLnM = (LN_M_MAX - LN_M_MIN) / (M_POINTS - 1);

  /** `mWDM` in keV; null or Infinity = cold dark matter. */
  constructor(
    readonly cosmology: Cosmology,
    readonly mWDM: number | null,
  ) {
    const { h } = fixedCosmology;
    const omegaB = cosmology.omegaB;
    const omegaM = cosmology.omegaM;
    this.omhh = omegaM * h * h;
    this.theta = T_CMB0 / 2.7;
    const omhh = this.omhh;
    const th = this.theta;
    const fNu = this.fNu;
    const fBaryon = omegaB / omegaM;
    const zEquality = 25000 * omhh * th ** -4 - 1;
    const kEquality = (0.0746 * omhh) / (th * th);
    let zDrag = 0.313 * omhh ** -0.419 * (1 + 0.607 * omhh ** 0.674);
    zDrag = 1 + zDrag * (omegaB * h * h) ** (0.238 * omhh ** 0.223);
    zDrag *= (1291 * omhh ** 0.251) / (1 + 0.659 * omhh ** 0.828);
    const yD = (1 + zEquality) / (1 + zDrag);
    const rDrag = (31.5 * omegaB * h * h * th ** -4 * 1000) / (1 + zDrag);
    const rEquality = (31.5 * omegaB * h * h * th ** -4 * 1000) / (1 + zEquality);
    this.soundHorizon =
      (2 / 3 / kEquality) *
      Math.sqrt(6 / rEquality) *
      Math.log((Math.sqrt(1 + rDrag) + Math.sqrt(rDrag + rEquality)) / (1 + Math.sqrt(rEquality)));
    const pC = -(5 - Math.sqrt(1 + 24 * (1 - fNu - fBaryon))) / 4;
    const pCb = -(5 - Math.sqrt(1 + 24 * (1 - fNu))) / 4;
    const fC = 1 - fNu - fBaryon;
    const fCb = 1 - fNu;
    const fNub = fNu + fBaryon;
    let a = ((fC / fCb) * (2 * (pC + pCb) + 5)) / (4 * pCb + 5);
    a *= 1 - 0.553 * fNub + 0.126 * fNub ** 3;
    a /= 1 - 0.193 * Math.sqrt(fNu) + 0.169 * fNu;
    a *= (1 + yD) ** (pC - pCb);
    a *= 1 + (((pCb - pC) / 2) * (1 + 1 / (4 * pC + 3) / (4 * pCb + 7))) / (1 + yD);
    this.alphaNu = a;
    this.betaC = 1 / (1 - 0.949 * fNub);
    this.cutoffRadius = mWDM !== null && Number.isFinite(mWDM) ? wdmCutoffRadius(omegaM, omegaB, mWDM) : 0;

    // σ² integrand shape k³ k^n_s T² on the ln k grid, then σ_norm from σ(8/h Mpc) = σ8.
    this.shapeOnLnK = new Float64Array(K_POINTS);
    for (let i = 0; i < K_POINTS; i++) {
      const k = Math.exp(LN_K_MIN + ((LN_K_MAX - LN_K_MIN) * i) / (K_POINTS - 1));
      const t = this.transfer(k);
      this.shapeOnLnK[i] = k ** 3 * k ** fixedCosmology.ns * t * t;
    }
    this.sigmaNorm = 1;
    this.sigmaNorm = fixedCosmology.sigma8 / this.sigmaOfRadius(8 / h);

    this.lnSigmaTable = new Float64Array(M_POINTS);
    for (let i = 0; i < M_POINTS; i++) {
      const mass = Math.exp(LN_M_MIN + i * this.dLnM);
      this.lnSigmaTable[i] = Math.log(this.sigmaOfRadius(cosmology.massToRadius(mass)));
    }
    this.dLnSigmaTable = new Float64Array(M_POINTS);
    for (let i = 0; i < M_POINTS; i++) {
      const lo = Math.max(0, i - 1);
      const hi = Math.min(M_POINTS - 1, i + 1);
      this.dLnSigmaTable[i] = (this.lnSigmaTable[hi] - this.lnSigmaTable[lo]) / ((hi - lo) * this.dLnM);
    }
  }

  /** Transfer function T(k) (TFmdm with f_ν → 0, times the WDM cut-off when m_WDM is set). */
  transfer(k: number): number {
    const q = (k * this.theta * this.theta) / this.omhh;
    const sqrtAlpha = Math.sqrt(this.alphaNu);
    const gammaEff = sqrtAlpha + (1 - sqrtAlpha) / (1 + (0.43 * k * this.soundHorizon) ** 4);
    const qEff = q / gammaEff;
    const logTerm = Math.log(Math.E + 1.84 * this.betaC * sqrtAlpha * qEff);
    let tf = logTerm / (logTerm + qEff * qEff * (14.4 + 325 / (1 + 60.5 * qEff ** 1.11)));
    const qNu = (3.92 * q) / Math.sqrt(this.fNu);
    tf *= 1 + (1.2 * this.fNu ** 0.64) / (qNu ** -1.6 + qNu ** 0.8);
    if (this.cutoffRadius > 0) {
      tf *= (1 + (BODE_E * k * this.cutoffRadius) ** (2 * BODE_V)) ** (-BODE_N / BODE_V);
    }
    return tf;
  }

  /** P(k) [Mpc³] at z = 0 (power_in_k). */
  power(k: number): number {
    if (k <= 0) return 0;
    const t = this.transfer(k);
    return 2 * Math.PI * Math.PI * this.sigmaNorm ** 2 * k ** fixedCosmology.ns * t * t;
  }

  /** σ(R) at z = 0 for a real-space top-hat of radius R [Mpc] (sigma_z0), trapezoid in ln k. */
  sigmaOfRadius(radius: number): number {
    const dLnK = (LN_K_MAX - LN_K_MIN) / (K_POINTS - 1);
    let sum = 0;
    for (let i = 0; i < K_POINTS; i++) {
      const k = Math.exp(LN_K_MIN + i * dLnK);
      const w = topHatWindow(k * radius);
      const term = this.shapeOnLnK[i] * w * w;
      sum += i === 0 || i === K_POINTS - 1 ? term / 2 : term;
    }
    return this.sigmaNorm * Math.sqrt(sum * dLnK);
  }

  /** σ(M) at z = 0 from the table (M in M⊙). */
  sigmaOfMass(mass: number): number {
    return Math.exp(interpolateUniform(LN_M_MIN, this.dLnM, this.lnSigmaTable, Math.log(mass)));
  }

  /** d ln σ / d ln M (negative). */
  dLnSigmaDLnM(mass: number): number {
    return interpolateUniform(LN_M_MIN, this.dLnM, this.dLnSigmaTable, Math.log(mass));
  }
}

/** R_c = 0.201 ((Ω_m − Ω_b)h²/0.15)^0.15 (g_x/1.5)^-0.29 m_WDM^-1.15 Mpc (ps.c init_ps, Barkana+01 Eq. 4). */
export function wdmCutoffRadius(omegaM: number, omegaB: number, mWDM: number): number {
  const { h } = fixedCosmology;
  const och2 = (omegaM - omegaB) * h * h;
  return 0.201 * (och2 / 0.15) ** 0.15 * (fixedAstro.gX / 1.5) ** -0.29 * mWDM ** -1.15;
}

/** WDM Jeans mass M_J [M⊙] (ps.c M_J_WDM, Barkana+01 Eq. 10). */
export function wdmJeansMass(omegaM: number, omegaB: number, mWDM: number): number {
  const { h } = fixedCosmology;
  const och2 = (omegaM - omegaB) * h * h;
  const zEq = (3600 * och2) / 0.15;
  return 60 * 3.06e8 * (1.5 / fixedAstro.gX) * Math.sqrt(och2 / 0.15) * mWDM ** -4 * (zEq / 3000) ** 1.5;
}
