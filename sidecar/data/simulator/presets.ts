// The size presets live in schemas/ so that the config's checks can read them; this module adds the
// simulator's own uses of them.
import { simulatorPresets, type SimulatorPresetName, type SimulatorSize } from '../../../schemas/simulator_presets';

export { simulatorPresets };

/**
 * Bump whenever the simulator's output for the same inputs changes: the dataset cache is keyed by it.
 */
export const simulatorVersion = '1.0.1';

/** Resolves a preset name or checks an explicit size, with an error naming the bad field. */
export function resolveSize(size: SimulatorPresetName | SimulatorSize): SimulatorSize {
  if (typeof size === 'string') {
    const preset = simulatorPresets[size];
    if (!preset) {
      throw new Error(
        `simulator size: unknown preset '${size}'; expected one of ${Object.keys(simulatorPresets).join(', ')}`,
      );
    }
    return { ...preset };
  }
  const checks: Array<[keyof SimulatorSize, boolean, string]> = [
    ['n', Number.isInteger(size.n) && size.n >= 8 && size.n % 2 === 0, 'an even integer ≥ 8'],
    ['boxMpc', size.boxMpc > 0, 'a positive length in Mpc'],
    ['nLos', Number.isInteger(size.nLos) && size.nLos >= 1, 'a positive integer'],
    ['zMin', size.zMin >= 0 && size.zMin < size.zMax, 'a redshift ≥ 0 below zMax'],
    ['zMax', size.zMax <= 60, 'a redshift ≤ 60'],
    ['zStepFactor', size.zStepFactor > 1 && size.zStepFactor <= 1.5, 'a factor in (1, 1.5]'],
    ['deltaRFactor', size.deltaRFactor > 1 && size.deltaRFactor <= 2, 'a factor in (1, 2]'],
    ['tsShells', Number.isInteger(size.tsShells) && size.tsShells >= 4, 'an integer ≥ 4'],
    ['clumping', size.clumping >= 0, 'a clumping factor ≥ 0'],
  ];
  for (const [field, ok, expected] of checks) {
    if (!ok || !Number.isFinite(size[field])) {
      throw new Error(`simulator size: '${field}' = ${size[field]} is invalid; expected ${expected}`);
    }
  }
  return { ...size };
}
