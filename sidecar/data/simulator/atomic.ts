// Atomic rates and tables of the spin-temperature model (docs/simulator.md#spin-temperature), from
// 21cmFAST 3.1.2: photo-ionisation cross sections (`UsefulFunctions.c` HI/HeI/HeII_ion_crosssec,
// Verner et al. 1996 type fits), case-A recombination (alpha_A), collisional coupling rates
// (`heating_helper_progs.c` kappa_10 from Zygelman 2005; `_data/kappa_eH_table.dat`,
// `kappa_pH_table.dat` after Furlanetto & Furlanetto 2007), the Barkana & Loeb (2005) Pop II
// Lyman-series spectrum (`stellar_spectra.dat`), Lyn recycling fractions (Pritchard & Furlanetto 2006)
// and Shull & van Steenberg (1985) secondary-electron fits [APPROX for the Furlanetto & Stoever tables].
import { LY_ALPHA_HZ, NU_ION_HEI, NU_ION_HEII, NU_ION_HI, NU_OVER_EV } from './constants';
import { interpolate } from './cosmology';

function hydrogenicCrossSection(nu: number, threshold: number, scale: number): number {
  if (nu <= threshold) return 0;
  const eps = Math.sqrt(nu / threshold - 1);
  return (
    (scale * 6.3e-18 * (threshold / nu) ** 4 * Math.exp(4 - (4 * Math.atan(eps)) / eps)) /
    (1 - Math.exp((-2 * Math.PI) / eps))
  );
}

export function sigmaHI(nu: number): number {
  return hydrogenicCrossSection(nu, NU_ION_HI, 1);
}

export function sigmaHeII(nu: number): number {
  return hydrogenicCrossSection(nu, NU_ION_HEII, 0.25);
}

export function sigmaHeI(nu: number): number {
  if (nu < NU_ION_HEI) return 0;
  const x = nu / NU_OVER_EV / 13.61 - 0.4434;
  const y = Math.sqrt(x * x + 2.136 * 2.136);
  return 9.492e-16 * ((x - 1) ** 2 + 2.039 * 2.039) * y ** (0.5 * 3.188 - 5.5) * (1 + Math.sqrt(y / 1.469)) ** -3.188;
}

/** Case-A recombination coefficient [cm³ s⁻¹] (alpha_A fit). */
export function alphaA(temperature: number): number {
  const l = Math.log(temperature / 1.1604505e4);
  return Math.exp(
    -28.6130338 -
      0.72411256 * l -
      2.02604473e-2 * l ** 2 -
      2.38086188e-3 * l ** 3 -
      3.21260521e-4 * l ** 4 -
      1.42150291e-5 * l ** 5 +
      4.98910892e-6 * l ** 6 +
      5.75561414e-7 * l ** 7 -
      1.85676704e-8 * l ** 8 -
      3.07113524e-9 * l ** 9,
  );
}

/** Energy fractions of X-ray secondary electrons versus x_e (Shull & van Steenberg 1985 fits). */
export const fHeat = (xe: number): number => 0.9971 * (1 - (1 - Math.max(xe, 1e-10) ** 0.2663) ** 1.3163);
export const fIon = (xe: number): number => 0.3908 * (1 - Math.max(xe, 1e-10) ** 0.4092) ** 1.7592;
export const fExc = (xe: number): number => 0.4766 * (1 - Math.max(xe, 1e-10) ** 0.2735) ** 1.5221;

const KAPPA_HH_LN = [
  -29.6115227098, -29.6228184691, -29.5917673123, -29.4469989515, -29.1171430989, -28.5382192456, -27.7424388865,
  -26.8137036254, -25.8749225449, -25.0548322235, -24.4005076336, -23.8952335377, -23.5075651004, -23.201637629,
  -22.9593758343, -22.7534867461, -22.5745752086, -22.4195690855, -22.2833176123, -22.1549519419, -22.0323282988,
  -21.9149994721, -21.800121439, -21.6839502137, -21.5662434981, -21.4473595491, -21.3279560712, -21.2067614838,
  -21.0835560288, -20.9627928675,
];
const KAPPA_HH_DLNT = 0.317597943861;
const KAPPA_T_EH = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 3e3, 5e3, 7e3, 1e4, 1.5e4, 2e4, 3e4, 6e4, 1e5];
const KAPPA_EH = [
  2.38918e-10, 3.37062e-10, 5.30367e-10, 7.4594e-10, 1.04665e-9, 1.6286e-9, 2.26014e-9, 3.10599e-9, 4.59451e-9,
  5.91721e-9, 7.15325e-9, 7.71197e-9, 8.17007e-9, 8.32114e-9, 8.36573e-9, 8.28527e-9, 8.11389e-9, 7.5748e-9, 5.5747e-9,
  3.72254e-9,
];
const KAPPA_T_PH = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 3e3, 5e3, 7e3, 1e4, 1.5e4, 2e4];
const KAPPA_PH = [
  0.4e-9, 0.45e-9, 0.43e-9, 0.369e-9, 0.317e-9, 0.3047e-9, 0.3379e-9, 0.4043e-9, 0.5471e-9, 0.7051e-9, 0.9167e-9,
  1.07e-9, 1.301e-9, 1.48e-9, 1.695e-9, 1.975e-9, 2.201e-9,
];
const LN_T_EH = KAPPA_T_EH.map(Math.log);
const LN_K_EH = KAPPA_EH.map(Math.log);
const LN_T_PH = KAPPA_T_PH.map(Math.log);
const LN_K_PH = KAPPA_PH.map(Math.log);

/** H–H spin-exchange rate κ_10 [cm³ s⁻¹]: linear in ln–ln, constant below 1 K, T^0.381 above the table. */
export function kappaHH(temperature: number): number {
  const lnT = Math.log(Math.max(temperature, 1));
  const last = KAPPA_HH_LN.length - 1;
  const u = lnT / KAPPA_HH_DLNT;
  if (u >= last) return Math.exp(KAPPA_HH_LN[last] + 0.381 * (lnT - last * KAPPA_HH_DLNT));
  const i = Math.floor(u);
  return Math.exp(KAPPA_HH_LN[i] + (u - i) * (KAPPA_HH_LN[i + 1] - KAPPA_HH_LN[i]));
}

/** e–H spin-exchange rate, log–log interpolated and clamped to the table. */
export function kappaEH(temperature: number): number {
  return Math.exp(interpolate(LN_T_EH, LN_K_EH, Math.log(Math.max(temperature, 1))));
}

/** p–H spin-exchange rate, log–log interpolated and clamped to the table. */
export function kappaPH(temperature: number): number {
  return Math.exp(interpolate(LN_T_PH, LN_K_PH, Math.log(Math.max(temperature, 1))));
}

/** RECFAST mean x_e and T_k above Z_HEAT_MAX (`_data/recfast_LCDM.dat`, docs/simulator.md#spin-temperature-thermal). */
const RECFAST_Z = [30, 32, 34, 35, 36, 38, 40];
const RECFAST_XE = [2.0124e-4, 2.0292e-4, 2.0457e-4, 2.0537e-4, 2.0617e-4, 2.0773e-4, 2.0926e-4];
const RECFAST_TK = [19.248, 21.705, 24.293, 25.635, 27.009, 29.85, 32.814];
export function recfast(z: number): { xe: number; tk: number } {
  return { xe: interpolate(RECFAST_Z, RECFAST_XE, z), tk: interpolate(RECFAST_Z, RECFAST_TK, z) };
}

const SPECTRUM = [
  [1.49494, 0.142018],
  [0.393277, -2.17044],
  [0.160398, 2.14591],
  [0.0729365, -17.4677],
  [0.0349985, -34.0605],
  [0.0174907, -42.9493],
  [0.0102821, -13.5722],
  [7.30747e-3, 3.95519],
  [5.44619e-3, 5.1087],
  [4.17057e-3, 5.73644],
  [3.26463e-3, 6.11457],
  [2.60298e-3, 6.3601],
  [2.10843e-3, 6.52889],
  [1.73139e-3, 6.65021],
  [1.43814e-3, 3.86785e-3],
  [1.18812e-3, -54.8366],
  [9.86257e-4, -54.8176],
  [8.28343e-4, -54.8015],
  [7.029e-4, -54.7877],
  [6.019e-4, -54.7758],
  [5.19604e-4, -54.7655],
  [4.51832e-4, -54.7564],
];
/** Lyn frequencies in units of ν_α for n = 2..23. */
export const LYMAN_NU_HAT = Array.from({ length: 22 }, (_, i) => (4 / 3) * (1 - 1 / (i + 2) ** 2));
const SPECTRUM_INDEX = SPECTRUM.map(([, alpha]) => alpha);
// Normalise each band to 5000 photons per stellar baryon in total (heating_helper_progs.c; the last
// band is left as read, as in 21cmFAST).
const SPECTRUM_NORM = SPECTRUM.map(([n0, alpha], i) =>
  i < SPECTRUM.length - 1
    ? ((n0 * (alpha + 1)) / (LYMAN_NU_HAT[i + 1] ** (alpha + 1) - LYMAN_NU_HAT[i] ** (alpha + 1))) * 5000
    : n0,
);

/** Photons per stellar baryon per Hz at frequency ν̂ (units of ν_α) (spectral_emissivity). */
export function stellarEmissivity(nuHat: number): number {
  for (let i = 0; i < LYMAN_NU_HAT.length - 1; i++) {
    if (nuHat >= LYMAN_NU_HAT[i] && nuHat < LYMAN_NU_HAT[i + 1])
      return (SPECTRUM_NORM[i] * nuHat ** SPECTRUM_INDEX[i]) / LY_ALPHA_HZ;
  }
  const last = SPECTRUM_NORM.length - 1;
  return (SPECTRUM_NORM[last] * nuHat ** SPECTRUM_INDEX[last]) / LY_ALPHA_HZ;
}

/** Fraction of Lyn photons recycled into Lyα, n = 2..23 (frecycle). */
export const LYMAN_RECYCLE = [
  1, 0, 0.2609, 0.3078, 0.3259, 0.3353, 0.341, 0.3448, 0.3476, 0.3496, 0.3512, 0.3524, 0.3535, 0.3543, 0.355, 0.3556,
  0.3561, 0.3565, 0.3569, 0.3572, 0.3575, 0.3578,
];

/** Highest source redshift whose Lyn photons reach z′ before redshifting into Ly(n+1) (zmax). */
export function lymanHorizon(zPrime: number, n: number): number {
  return ((1 + zPrime) * (1 - (n + 1) ** -2)) / (1 - n ** -2) - 1;
}

/**
 * α_A, κ_HH, κ_eH and κ_pH tabulated on a uniform ln T grid (1 K … 10⁵ K): the per-cell loops of the
 * spin-temperature step then need one logarithm and a linear interpolation instead of ~10
 * transcendental functions per cell. The 4096-point grid keeps the interpolation error below 1e-5.
 */
export class TemperatureRateTable {
  static readonly lnTMin = 0;
  static readonly lnTMax = Math.log(1e5);
  static readonly points = 4096;
  readonly step = (TemperatureRateTable.lnTMax - TemperatureRateTable.lnTMin) / (TemperatureRateTable.points - 1);
  readonly alphaA = new Float64Array(TemperatureRateTable.points);
  readonly kappaHH = new Float64Array(TemperatureRateTable.points);
  readonly kappaEH = new Float64Array(TemperatureRateTable.points);
  readonly kappaPH = new Float64Array(TemperatureRateTable.points);

  constructor() {
    for (let i = 0; i < TemperatureRateTable.points; i++) {
      const t = Math.exp(TemperatureRateTable.lnTMin + i * this.step);
      this.alphaA[i] = alphaA(t);
      this.kappaHH[i] = kappaHH(t);
      this.kappaEH[i] = kappaEH(t);
      this.kappaPH[i] = kappaPH(t);
    }
  }

  /** Fractional table position of temperature T (clamped to the grid). */
  position(temperature: number): number {
    const u = (Math.log(Math.max(temperature, 1)) - TemperatureRateTable.lnTMin) / this.step;
    return Math.min(u, TemperatureRateTable.points - 1.000001);
  }
}

/** Linear interpolation of `table` at fractional position u (from `TemperatureRateTable.position`). */
export function lookup(table: Float64Array, u: number): number {
  const i = u | 0;
  return table[i] + (u - i) * (table[i + 1] - table[i]);
}
