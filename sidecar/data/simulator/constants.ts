// Physical constants exactly as 21cmFAST 3.1.2 uses them (`src/Constants.h`, top of
// `src/UsefulFunctions.c`; docs/simulator.md#constants), so that derived numbers match the reference code.
// cgs units unless a name says otherwise; lengths in comoving Mpc.

export const G = 6.67259e-8;
export const CM_PER_MPC = 3.086e24;
export const MSUN = 1.989e33;
export const M_P = 1.6726231e-24;
export const K_B = 1.380658e-16;
export const H_PLANCK = 6.62606896e-27;
export const C_CM = 29979245800;
export const SIGMA_T = 6.6524e-25;
/** Linear collapse threshold; 21cmFAST uses 1.68, not 1.686. */
export const DELTA_C = 1.68;
/** Radius of the sphere with the volume of a unit cube: (4π/3)^(-1/3). */
export const L_FACTOR = 0.620350491;
/** Sheth–Tormen parameters of 21cmFAST's ps.c (Jenkins-like fit, not the classic 0.707/0.3/0.322). */
export const SHETH_A_PARAM = 0.73;
export const SHETH_P = 0.175;
export const SHETH_BIG_A = 0.353;
/** Bode, Ostriker & Turok (2001) WDM transfer-function fit. */
export const BODE_E = 0.361;
export const BODE_N = 5.0;
export const BODE_V = 1.2;
export const NU_OVER_EV = 1.60217646e-12 / H_PLANCK;
export const NU_ION_HI = 13.6 * NU_OVER_EV;
export const NU_ION_HEI = 24.59 * NU_OVER_EV;
export const NU_ION_HEII = 4 * 13.6 * NU_OVER_EV;
export const LY_ALPHA_HZ = 2.46606727e15;
export const T21 = 0.0628;
export const A10_HYPERFINE = 2.85e-15;
export const ALPHA_B_10K = 2.59e-13;
export const T_CMB0 = 2.728;
export const Y_HE = 0.245;
export const OMEGA_R = 8.6e-5;
export const SECONDS_PER_YEAR = 3.1556226e7;

/** The fixed cosmology of the dataset (docs/simulator.md#constants; 21cmFAST `inputs.py` CosmoParams defaults). */
export const fixedCosmology = { sigma8: 0.8102, h: 0.6766, omegaB: 0.04897, ns: 0.9665 } as const;

/** Fixed astrophysics of the dataset (defaults of 21cmFAST 3.1.2 used by the generator). */
export const fixedAstro = {
  /** F_STAR10 = 10^-1.3, used as a constant star-formation efficiency in the ζ/T_vir model. */
  fStar: Math.pow(10, -1.3),
  /** X-ray spectral index α_X. */
  alphaX: 1,
  /** WDM degrees of freedom g_x. */
  gX: 1.5,
  /** Ts-shell maximum radius R_XLy_MAX [Mpc]. */
  rXLyMaxMpc: 500,
  /** Upper end of the X-ray soft band that L_X refers to [eV]. */
  nuXBandMaxEv: 2000,
  /** Highest X-ray energy followed [eV]. */
  nuXMaxEv: 10000,
  /** Excursion-set radii [Mpc]. */
  rBubbleMin: L_FACTOR,
  rBubbleMax: 50,
  /** Poisson mean for partially ionised cells (N_POISSON). */
  nPoisson: 5,
  /** Maximum |dv/dr|/H in the brightness temperature (MAX_DVDR). */
  maxDvDr: 0.2,
  /** Kinetic temperature ceiling (MAX_TK) [K]. */
  maxTk: 5e4,
} as const;
