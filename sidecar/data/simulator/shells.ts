// Per-node global quantities of the spin-temperature shells (docs/simulator.md#spin-temperature-shells; after
// 21cmFAST 3.1.2 `SpinTemperatureBox.c` ComputeTsBox and `heating_helper_progs.c`): shell redshifts,
// the mean star-formation weight, the X-ray heating / ionisation / Lyα kernels with the opacity cut
// (Greig-style τ_X = 1 approximation) and the stellar Lyman-series sum. All shells share the box-mean
// x_e here [APPROX: 21cmFAST tabulates the kernels on an x_e grid and interpolates per cell].
import {
  C_CM,
  CM_PER_MPC,
  H_PLANCK,
  LY_ALPHA_HZ,
  NU_ION_HEI,
  NU_ION_HEII,
  NU_ION_HI,
  NU_OVER_EV,
  SECONDS_PER_YEAR,
  fixedAstro,
} from './constants';
import type { Cosmology } from './cosmology';
import type { HaloModel } from './hmf';
import {
  LYMAN_NU_HAT,
  LYMAN_RECYCLE,
  fExc,
  fHeat,
  fIon,
  lymanHorizon,
  sigmaHI,
  sigmaHeI,
  sigmaHeII,
  stellarEmissivity,
} from './atomic';

const ENERGY_POINTS = 48;
const OPACITY_STEPS_PER_SHELL = 4;

export interface ShellNode {
  /** Shell-centre redshifts z″_r and widths |Δz″_r|. */
  zShell: Float64Array;
  dzShell: Float64Array;
  /** Mean star-formation weight per unit z″: (F_ST/F_PS)|dF_PS/dz″| at z″_r. */
  sfrWeight: Float64Array;
  /** Per-shell coefficients multiplying Ψ_r: heating [erg s⁻¹], ionisation [s⁻¹], X-ray Lyα and stellar Lyα. */
  heat: Float64Array;
  ion: Float64Array;
  lyaX: Float64Array;
  lyaStar: Float64Array;
}

export class ShellModel {
  readonly radii: Float64Array;
  private readonly energies: Float64Array;
  private readonly nu0: number;
  /** Soft-band normalisation of the X-ray spectrum (α_X = 1; docs/simulator.md#spin-temperature-xrays). */
  private readonly luminosityNorm: number;

  constructor(
    private readonly cosmology: Cosmology,
    private readonly halos: HaloModel,
    cellMpc: number,
    shells: number,
    private readonly zeta: number,
    log10LX: number,
    private readonly e0: number,
  ) {
    const r0 = 0.620350491 * cellMpc;
    const factor = (fixedAstro.rXLyMaxMpc / r0) ** (1 / shells);
    this.radii = Float64Array.from({ length: shells }, (_, r) => r0 * factor ** r);
    this.nu0 = e0 * NU_OVER_EV;
    const eLow = Math.max(e0, 24.6);
    this.energies = Float64Array.from(
      { length: ENERGY_POINTS },
      (_, i) => eLow * (fixedAstro.nuXMaxEv / eLow) ** (i / (ENERGY_POINTS - 1)),
    );
    this.luminosityNorm =
      (10 ** log10LX * SECONDS_PER_YEAR) / H_PLANCK / (this.nu0 * Math.log(fixedAstro.nuXBandMaxEv / e0));
  }

  /** Shell geometry and kernels for the node at z′, with the box-mean x_e. */
  node(zPrime: number, xeMean: number): ShellNode {
    const c = this.cosmology;
    const shells = this.radii.length;
    const out: ShellNode = {
      zShell: new Float64Array(shells),
      dzShell: new Float64Array(shells),
      sfrWeight: new Float64Array(shells),
      heat: new Float64Array(shells),
      ion: new Float64Array(shells),
      lyaX: new Float64Array(shells),
      lyaStar: new Float64Array(shells),
    };
    let edge = zPrime;
    let previousRadius = 0;
    for (let r = 0; r < shells; r++) {
      const next = edge - ((this.radii[r] - previousRadius) * CM_PER_MPC) / c.drdz(edge);
      out.zShell[r] = (edge + next) / 2;
      out.dzShell[r] = next - edge;
      edge = next;
      previousRadius = this.radii[r];
      const zs = out.zShell[r];
      const fps = this.halos.fPS(zs);
      out.sfrWeight[r] = fps > 1e-300 ? (this.halos.fST(zs) / fps) * Math.abs(this.halos.dFpsDz(zs)) : 0;
    }
    this.xrayKernels(zPrime, xeMean, out);
    this.stellarLyman(zPrime, out);
    return out;
  }

  private xrayKernels(zPrime: number, xe: number, out: ShellNode): void {
    const c = this.cosmology;
    const energies = this.energies;
    const nus = energies.map((e) => e * NU_OVER_EV);
    const alpha = fixedAstro.alphaX;
    // Frequency integrands at the box-mean x_e (the proto's and 21cmFAST's integrate_over_nu).
    const nHI = c.fH * (1 - xe);
    const nHeI = c.fHe * (1 - xe);
    const nHeII = c.fHe * xe;
    const heatIntegrand = new Float64Array(nus.length);
    const ionIntegrand = new Float64Array(nus.length);
    const lyaIntegrand = new Float64Array(nus.length);
    for (let e = 0; e < nus.length; e++) {
      const nu = nus[e];
      const spectrum = (nu / this.nu0) ** (-alpha - 1);
      const sHI = sigmaHI(nu);
      const sHeI = sigmaHeI(nu);
      const sHeII = sigmaHeII(nu);
      heatIntegrand[e] =
        spectrum *
        fHeat(xe) *
        (H_PLANCK * (nu - NU_ION_HI) * nHI * sHI +
          H_PLANCK * (nu - NU_ION_HEI) * nHeI * sHeI +
          H_PLANCK * (nu - NU_ION_HEII) * nHeII * sHeII);
      ionIntegrand[e] =
        spectrum * ((1 + (fIon(xe) * (nu - NU_ION_HI)) / NU_ION_HI) * (nHI * sHI + nHeI * sHeI) + nHeII * sHeII);
      lyaIntegrand[e] =
        spectrum * fExc(xe) * ((H_PLANCK * (nu - NU_ION_HI)) / (10.2 * 1.602e-12)) * (nHI * sHI + nHeI * sHeI);
    }
    // Cumulative optical depth from z′ outwards, per received frequency ν (emitted at ν(1+ẑ)/(1+z′)).
    const tau = new Float64Array(nus.length);
    const lyaFactor = C_CM / (4 * Math.PI * LY_ALPHA_HZ * c.hubble(zPrime));
    const prefactor =
      (this.luminosityNorm / this.nu0) *
      C_CM *
      fixedAstro.fStar *
      c.omegaB *
      c.rhoCrit *
      CM_PER_MPC ** -3 *
      (1 + zPrime) ** (alpha + 3);
    let zFrom = zPrime;
    for (let r = 0; r < out.zShell.length; r++) {
      const zTo = out.zShell[r];
      const dz = (zTo - zFrom) / OPACITY_STEPS_PER_SHELL;
      for (let s = 0; s < OPACITY_STEPS_PER_SHELL; s++) {
        const zHat = zFrom + (s + 0.5) * dz;
        const neutralFilling = Math.min(1, Math.max(1e-4, 1 - (this.zeta * this.halos.fST(zHat)) / (1 - xe)));
        const column = C_CM * Math.abs(c.dtdz(zHat)) * c.nB0 * (1 + zHat) ** 3 * neutralFilling * dz;
        const stretch = (1 + zHat) / (1 + zPrime);
        for (let e = 0; e < nus.length; e++) {
          const nuHat = nus[e] * stretch;
          tau[e] += column * (nHI * sigmaHI(nuHat) + nHeI * sigmaHeI(nuHat) + nHeII * sigmaHeII(nuHat));
        }
      }
      zFrom = zTo;
      // Only photons with τ < 1 reach the cell from this shell: integrate from the first such energy.
      let heat = 0;
      let ion = 0;
      let lya = 0;
      for (let e = 1; e < nus.length; e++) {
        if (tau[e - 1] >= 1 || energies[e - 1] < this.e0) continue;
        const dnu = nus[e] - nus[e - 1];
        heat += 0.5 * (heatIntegrand[e] + heatIntegrand[e - 1]) * dnu;
        ion += 0.5 * (ionIntegrand[e] + ionIntegrand[e - 1]) * dnu;
        lya += 0.5 * (lyaIntegrand[e] + lyaIntegrand[e - 1]) * dnu;
      }
      const redshiftWeight = prefactor * (1 + out.zShell[r]) ** -alpha;
      out.heat[r] = redshiftWeight * heat;
      out.ion[r] = redshiftWeight * ion;
      out.lyaX[r] = redshiftWeight * lya * lyaFactor * c.nB0 * (1 + zPrime) ** 3;
    }
  }

  /** Stellar Lyman-series contribution per unit Ψ_r (docs/simulator.md#spin-temperature-lyman). */
  private stellarLyman(zPrime: number, out: ShellNode): void {
    const c = this.cosmology;
    const norm = (fixedAstro.fStar * C_CM * c.nB0) / (4 * Math.PI);
    for (let r = 0; r < out.zShell.length; r++) {
      const zs = out.zShell[r];
      let sum = 0;
      for (let n = 2; n <= 23; n++) {
        if (zs > lymanHorizon(zPrime, n)) continue;
        sum += LYMAN_RECYCLE[n - 2] * stellarEmissivity((LYMAN_NU_HAT[n - 2] * (1 + zs)) / (1 + zPrime));
      }
      out.lyaStar[r] = norm * (1 + zPrime) ** 2 * (1 + zs) * sum;
    }
  }
}
