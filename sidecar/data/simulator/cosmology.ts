// Background cosmology of the simulator (docs/simulator.md#cosmology), ported from 21cmFAST 3.1.2
// `src/UsefulFunctions.c` (hubble, dtdz, drdz, omega_mz, dicke, Deltac_nonlinear, RtoM/MtoR) and the
// astropy Planck15 clone that 21cmFAST's `inputs.py` uses for lightcone distances. Float64 throughout.
import { CM_PER_MPC, C_CM, G, MSUN, M_P, OMEGA_R, Y_HE, fixedCosmology } from './constants';

export class Cosmology {
  readonly omegaM: number;
  readonly omegaL: number;
  readonly omegaB = fixedCosmology.omegaB;
  readonly h = fixedCosmology.h;
  /** Hubble constant [s⁻¹]. */
  readonly hubble0: number;
  /** Critical density [M⊙ Mpc⁻³] and [g cm⁻³]. */
  readonly rhoCrit: number;
  readonly rhoCritCgs: number;
  /** Hydrogen, helium and all baryon number densities today [cm⁻³], and the number fractions. */
  readonly nH0: number;
  readonly nHe0: number;
  readonly nB0: number;
  readonly fH: number;
  readonly fHe: number;
  private readonly growthNorm: number;
  private readonly chiTable: { z: Float64Array; chi: Float64Array };

  constructor(omegaM: number) {
    if (!(omegaM > 0.05 && omegaM < 1)) throw new Error(`Cosmology: Ω_m must be in (0.05, 1), got ${omegaM}`);
    this.omegaM = omegaM;
    this.omegaL = 1 - omegaM;
    this.hubble0 = this.h * 3.2407e-18;
    this.rhoCritCgs = (3 * this.hubble0 * this.hubble0) / (8 * Math.PI * G);
    this.rhoCrit = (this.rhoCritCgs * CM_PER_MPC ** 3) / MSUN;
    this.nH0 = (this.rhoCritCgs * this.omegaB * (1 - Y_HE)) / M_P;
    this.nHe0 = (this.rhoCritCgs * this.omegaB * Y_HE) / (4 * M_P);
    this.nB0 = this.nH0 + this.nHe0;
    this.fH = this.nH0 / this.nB0;
    this.fHe = this.nHe0 / this.nB0;
    this.growthNorm = this.dickeG(omegaM);
    this.chiTable = this.tabulateComovingDistance();
  }

  /** H(z) [s⁻¹] (hubble). */
  hubble(z: number): number {
    const a = 1 + z;
    return this.hubble0 * Math.sqrt(this.omegaM * a * a * a + OMEGA_R * a * a * a * a + this.omegaL);
  }

  /** dt/dz [s], negative; closed form for flat ΛCDM without radiation (dtdz). */
  dtdz(z: number): number {
    const r = Math.sqrt(this.omegaL / this.omegaM);
    const x = r * Math.pow(1 + z, -1.5);
    const dxdz = r * Math.pow(1 + z, -2.5) * -1.5;
    const c1 = (2 * Math.sqrt(1 + this.omegaM / this.omegaL)) / (3 * this.hubble0);
    const root = Math.sqrt(x * x + 1);
    return (c1 * dxdz * (1 + x / root)) / (x + root);
  }

  /** Comoving dr/dz [cm per unit z], negative (drdz). */
  drdz(z: number): number {
    return (1 + z) * C_CM * this.dtdz(z);
  }

  /** Ω_m(z) (omega_mz). */
  omegaMz(z: number): number {
    const a3 = (1 + z) ** 3;
    return (this.omegaM * a3) / (this.omegaM * a3 + this.omegaL + OMEGA_R * (1 + z) ** 4);
  }

  private dickeG(omega: number): number {
    return (2.5 * omega) / (1 / 70 + (omega * (209 - omega)) / 140 + Math.pow(omega, 4 / 7));
  }

  /** Linear growth factor normalised to 1 today (dicke; Carroll, Press & Turner 1992 fit). */
  growth(z: number): number {
    return this.dickeG(this.omegaMz(z)) / (this.growthNorm * (1 + z));
  }

  /** dD/dz by a central difference, as 21cmFAST's ddicke_dz. */
  dGrowthDz(z: number): number {
    const dz = 1e-3 * (1 + z);
    return (this.growth(z + dz) - this.growth(z - dz)) / (2 * dz);
  }

  /** dD/dt [s⁻¹] (ddickedt). */
  dGrowthDt(z: number): number {
    return this.dGrowthDz(z) / this.dtdz(z);
  }

  /** Virial overdensity Δ_c(z) = 18π² + 82d − 39d² (Bryan & Norman 1998; Deltac_nonlinear). */
  deltaCrit(z: number): number {
    const d = this.omegaMz(z) - 1;
    return 18 * Math.PI * Math.PI + 82 * d - 39 * d * d;
  }

  /** Mass in a top-hat sphere of radius R [Mpc] → M⊙ (RtoM). */
  radiusToMass(radius: number): number {
    return (4 / 3) * Math.PI * radius ** 3 * this.omegaM * this.rhoCrit;
  }

  massToRadius(mass: number): number {
    return Math.cbrt((3 * mass) / (4 * Math.PI * this.omegaM * this.rhoCrit));
  }

  /**
   * E(z) of the astropy Planck15 clone (T_CMB 2.7255 K, N_eff 3.046, one 0.06 eV neutrino treated as
   * matter) that 21cmFAST uses for lightcone distances (docs/simulator.md#cosmology, ≲0.2 % approximation).
   */
  private distanceE(z: number): number {
    const h2 = this.h * this.h;
    const omegaRad = (2.4728e-5 / h2) * (1 + 0.2271 * 2.046);
    const omegaNu = 0.06 / (93.14 * h2);
    const omegaLambda = 1 - this.omegaM - omegaNu - omegaRad;
    const a = 1 + z;
    return Math.sqrt((this.omegaM + omegaNu) * a ** 3 + omegaRad * a ** 4 + omegaLambda);
  }

  /** Cumulative Simpson integration of c/H on a fine z grid, 0 ≤ z ≤ 100. */
  private tabulateComovingDistance(): { z: Float64Array; chi: Float64Array } {
    const count = 20001;
    const zMaxTable = 100;
    const dz = zMaxTable / (count - 1);
    const z = new Float64Array(count);
    const chi = new Float64Array(count);
    const hubbleDistance = C_CM / (this.h * 3.2407e-18) / CM_PER_MPC; // c/H0 in Mpc
    for (let i = 1; i < count; i++) {
      z[i] = i * dz;
      const f0 = 1 / this.distanceE(z[i - 1]);
      const fm = 1 / this.distanceE(z[i - 1] + dz / 2);
      const f1 = 1 / this.distanceE(z[i]);
      chi[i] = chi[i - 1] + (hubbleDistance * dz * (f0 + 4 * fm + f1)) / 6;
    }
    return { z, chi };
  }

  /** Comoving distance χ(z) [Mpc]. */
  comovingDistance(z: number): number {
    return interpolate(this.chiTable.z, this.chiTable.chi, z);
  }

  /** Inverse of `comovingDistance`. */
  redshiftAtDistance(chi: number): number {
    return interpolate(this.chiTable.chi, this.chiTable.z, chi);
  }
}

/** Linear interpolation in a monotonically increasing table, clamped at the ends. */
export function interpolate(xs: ArrayLike<number>, ys: ArrayLike<number>, x: number): number {
  const n = xs.length;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[n - 1]) return ys[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}

/** Interpolation on a uniform grid x0 + i·dx (fast path for the σ(M) and F(z) tables). */
export function interpolateUniform(x0: number, dx: number, ys: ArrayLike<number>, x: number): number {
  const u = (x - x0) / dx;
  if (u <= 0) return ys[0];
  const last = ys.length - 1;
  if (u >= last) return ys[last];
  const i = Math.floor(u);
  const t = u - i;
  return ys[i] + t * (ys[i + 1] - ys[i]);
}
