// Halo abundance: minimum source mass and collapsed fractions (docs/simulator.md#halos), ported from
// 21cmFAST 3.1.2 `src/ps.c` (dNdM_st, FgtrM_General, FgtrM, M_J_WDM), `src/UsefulFunctions.c` (TtoM)
// and `src/IonisationBox.c` (conditional Press–Schechter with the Sheth–Tormen normalisation).
import { DELTA_C, SHETH_A_PARAM, SHETH_BIG_A, SHETH_P } from './constants';
import { interpolateUniform, type Cosmology } from './cosmology';
import { LinearPower, wdmJeansMass } from './powerspec';

const Z_TABLE_MIN = 4.5;
const Z_TABLE_MAX = 80;
const Z_TABLE_POINTS = 400;

/** Complementary error function (Numerical Recipes erfcc, as 21cmFAST's ps.c; |rel. err| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const ans =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409191 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? ans : 2 - ans;
}

export class HaloModel {
  readonly power: LinearPower;
  /** T_vir threshold of star-forming halos [K]. */
  readonly tVir: number;
  /** WDM Jeans mass (0 for CDM) [M⊙]. */
  readonly jeansMass: number;
  private readonly dz = (Z_TABLE_MAX - Z_TABLE_MIN) / (Z_TABLE_POINTS - 1);
  private readonly lnFstTable = new Float64Array(Z_TABLE_POINTS);
  private readonly fpsTable = new Float64Array(Z_TABLE_POINTS);
  private readonly lnMminTable = new Float64Array(Z_TABLE_POINTS);

  constructor(
    readonly cosmology: Cosmology,
    mWDM: number | null,
    log10Tvir: number,
  ) {
    this.power = new LinearPower(cosmology, mWDM);
    this.tVir = 10 ** log10Tvir;
    this.jeansMass =
      mWDM !== null && Number.isFinite(mWDM) ? wdmJeansMass(cosmology.omegaM, cosmology.omegaB, mWDM) : 0;
    for (let i = 0; i < Z_TABLE_POINTS; i++) {
      const z = Z_TABLE_MIN + i * this.dz;
      const mMin = this.minimumMassExact(z);
      this.lnMminTable[i] = Math.log(mMin);
      this.lnFstTable[i] = Math.log(Math.max(this.shethTormenFraction(z, mMin), 1e-300));
      this.fpsTable[i] = this.pressSchechterFraction(z, mMin);
    }
  }

  /** Virial mass of a halo with virial temperature T at z [M⊙] (TtoM; μ = 0.6 above 10⁴ K, else 1.22). */
  virialMass(z: number, tVir: number): number {
    const c = this.cosmology;
    const mu = tVir < 9.99999e3 ? 1.22 : 0.6;
    return (7030.97 / c.h) * Math.sqrt(c.omegaMz(z) / (c.omegaM * c.deltaCrit(z))) * (tVir / (mu * (1 + z))) ** 1.5;
  }

  private minimumMassExact(z: number): number {
    return Math.max(this.virialMass(z, this.tVir), this.jeansMass);
  }

  /** M_min(z) = max(M_vir(T_vir), M_J,WDM) [M⊙], the same for ionising and X-ray sources. */
  minimumMass(z: number): number {
    return Math.exp(interpolateUniform(Z_TABLE_MIN, this.dz, this.lnMminTable, z));
  }

  /** Sheth–Tormen collapsed fraction above M_min (FgtrM_General with HMF = 1), trapezoid in ln M. */
  shethTormenFraction(z: number, mMin: number): number {
    const growth = this.cosmology.growth(z);
    const lnLo = Math.log(mMin);
    const lnHi = Math.log(Math.max(1e16, 100 * mMin));
    const steps = 400;
    const h = (lnHi - lnLo) / steps;
    let sum = 0;
    for (let i = 0; i <= steps; i++) {
      const mass = Math.exp(lnLo + i * h);
      const nu = (Math.sqrt(SHETH_A_PARAM) * DELTA_C) / (this.power.sigmaOfMass(mass) * growth);
      const f = Math.sqrt(2 / Math.PI) * SHETH_BIG_A * (1 + nu ** (-2 * SHETH_P)) * nu * Math.exp((-nu * nu) / 2);
      const term = -this.power.dLnSigmaDLnM(mass) * f;
      sum += i === 0 || i === steps ? term / 2 : term;
    }
    return sum * h;
  }

  /** Unconditional Press–Schechter fraction erfc(δ_c / (√2 D σ(M_min))) (FgtrM). */
  pressSchechterFraction(z: number, mMin: number): number {
    return erfc(DELTA_C / (this.cosmology.growth(z) * Math.SQRT2 * this.power.sigmaOfMass(mMin)));
  }

  /** Tabulated F_ST(z, M_min(z)). */
  fST(z: number): number {
    return Math.exp(interpolateUniform(Z_TABLE_MIN, this.dz, this.lnFstTable, z));
  }

  /** Tabulated F_PS(z, M_min(z)). */
  fPS(z: number): number {
    return interpolateUniform(Z_TABLE_MIN, this.dz, this.fpsTable, z);
  }

  /** d F_PS / dz along the tabulated M_min(z) (negative: more collapse at lower z). */
  dFpsDz(z: number): number {
    const step = 0.05;
    return (this.fPS(z + step) - this.fPS(z - step)) / (2 * step);
  }
}
