// What a 21cmFAST lightcone file says about the paper's six parameters (docs/paper-mapping.md#labels).
// An attribute is a label only where the file's source model gives it the paper's meaning (Table 1: the
// mass-independent model, one ionising efficiency ζ for every halo above the virial temperature T_vir,
// X-rays from L_X above E_0 heating through the spin temperature, and a warm-dark-matter cut-off of mass
// m_WDM). Elsewhere the attribute is still written but unused or means something else, so reading it
// would teach the model a value the simulation never saw: the parameter is refused instead, naming the
// flag that decides and its value. The flags, from 21cmFAST's own inputs:
//   v3 (3.0–3.4): flag_options@USE_MINI_HALOS, @USE_MASS_DEPENDENT_ZETA, @M_MIN_in_Mass, @USE_TS_FLUCT as
//     passed (FlagOptions.self); 21cmFAST turns mass-dependent ζ on with minihalos and M_MIN_in_Mass on
//     with mass-dependent ζ, and spin temperature on with minihalos, so those implications are applied
//     here too. _globals@P_CUTOFF switches the WDM cut-off that uses _globals@M_WDM.
//   v4: InputParameters/matter_options@SOURCE_MODEL: HII_EFF_FACTOR is the ionising efficiency only in
//     "CONST-ION-EFF"; the other models derive it from F_STAR10 and F_ESC10. ION_Tvir_MIN sets the
//     minimum source mass only with astro_options@M_MIN_in_Mass false (its default is true: M_TURN) and
//     without astro_options@USE_MINI_HALOS. X-rays need astro_options@USE_TS_FLUCT and @USE_X_RAY_HEATING
//     (absent before 4.0, when X-rays always heated). 4.0 betas have astro_options@USE_MASS_DEPENDENT_ZETA
//     instead of SOURCE_MODEL. 21cmFAST 4 has no WDM model: its matter is cold.
import type { File as H5File, Group } from 'h5wasm';
import { byParameter, type ParameterName } from './parameters';

/** One parameter as a file gives it: a value and the attribute it came from, or why the file cannot give it. */
export type ParameterReading = { kind: 'mapped'; value: number; from: string } | { kind: 'refused'; reason: string };

export type ParameterReadings = Record<ParameterName, ParameterReading>;

/** A flag as read: its path for messages, and its value, or why it has none. */
type Flag = { path: string; value: boolean } | { path: string; problem: string; missing: boolean };

function groupAt(f: H5File, path: string): Group | undefined {
  const entity = f.get(path);
  return entity !== null && entity !== undefined && 'keys' in entity ? entity : undefined;
}

function rawAttribute(f: H5File, groupPath: string, name: string): unknown {
  return groupAt(f, groupPath)?.attrs[name]?.value;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A boolean flag: h5py writes numpy booleans as an enum that h5wasm returns as 0/1 (BigInt for int64). */
function flagAt(f: H5File, groupPath: string, name: string): Flag {
  const path = `${groupPath}@${name}`;
  const raw = rawAttribute(f, groupPath, name);
  if (raw === undefined || raw === null) return { path, problem: `${path} is missing`, missing: true };
  if (typeof raw === 'boolean') return { path, value: raw };
  if ((typeof raw === 'number' || typeof raw === 'bigint') && (Number(raw) === 0 || Number(raw) === 1))
    return { path, value: Number(raw) === 1 };
  return { path, problem: `${path} = ${shown(raw)}, not a boolean`, missing: false };
}

const isMissing = (flag: Flag) => 'missing' in flag && flag.missing;

/**
 * The refusal by the first flag in `when` that has the value that stops the parameter, or that cannot
 * be read (then the file does not say which model it ran); undefined when none stops it.
 */
function refusedBy(when: Array<[Flag, boolean]>, why: string): ParameterReading | undefined {
  for (const [flag, stops] of when) {
    if ('problem' in flag)
      return { kind: 'refused', reason: `${flag.problem}, so the file does not say which model it ran` };
    if (flag.value === stops) return { kind: 'refused', reason: `${flag.path} = ${flag.value}: ${why}` };
  }
  return undefined;
}

function numberAt(f: H5File, groupPath: string, name: string): ParameterReading {
  const raw = rawAttribute(f, groupPath, name);
  const from = `${groupPath}@${name}`;
  if (raw === undefined || raw === null) return { kind: 'refused', reason: `${from} is missing` };
  const value = Number(raw);
  if (typeof raw === 'string' || !Number.isFinite(value))
    return { kind: 'refused', reason: `${from} = ${shown(raw)}, not a finite number` };
  return { kind: 'mapped', value, from };
}

function v3Readings(f: H5File): ParameterReadings {
  const flags = (name: string) => flagAt(f, 'flag_options', name);
  const miniHalos = flags('USE_MINI_HALOS');
  const massDependentZeta = flags('USE_MASS_DEPENDENT_ZETA');
  const minimumInMass = flags('M_MIN_in_Mass');
  // Minihalos switch spin temperature on whatever the flag says.
  const spinTemperature = 'value' in miniHalos && miniHalos.value ? miniHalos : flags('USE_TS_FLUCT');
  const xRays = refusedBy(
    [[spinTemperature, false]],
    'without spin-temperature fluctuations X-rays do not shape the signal, so L_X and NU_X_THRESH are unused',
  );
  const efficiencyRule: Array<[Flag, boolean]> = [
    [miniHalos, true],
    [massDependentZeta, true],
  ];
  const zeta = refusedBy(
    efficiencyRule,
    'the ionising efficiency comes from F_STAR10 and F_ESC10 (mass-dependent ζ), so HII_EFF_FACTOR is unused',
  );
  const tvir = refusedBy(
    [...efficiencyRule, [minimumInMass, true]],
    'the minimum source mass is set in mass (M_TURN), so ION_Tvir_MIN is not the virial temperature of the sources',
  );
  const cutOff = flagAt(f, '_globals', 'P_CUTOFF');
  const mWDM =
    refusedBy(
      [[cutOff, false]],
      'the warm-dark-matter cut-off is off, so the file is cold dark matter and _globals@M_WDM is unused',
    ) ?? numberAt(f, '_globals', 'M_WDM');
  return byParameter((name) => {
    switch (name) {
      case 'mWDM':
        return mWDM;
      case 'omegaM':
        return numberAt(f, 'cosmo_params', 'OMm');
      case 'E0':
        return xRays ?? numberAt(f, 'astro_params', 'NU_X_THRESH');
      case 'log10LX':
        return xRays ?? numberAt(f, 'astro_params', 'L_X');
      case 'log10Tvir':
        return tvir ?? numberAt(f, 'astro_params', 'ION_Tvir_MIN');
      case 'zeta':
        return zeta ?? numberAt(f, 'astro_params', 'HII_EFF_FACTOR');
    }
  });
}

/** v4's source model: SOURCE_MODEL, or a 4.0 beta's USE_MASS_DEPENDENT_ZETA; the refusal when it is not "CONST-ION-EFF". */
function v4SourceModelRefusal(f: H5File, parameter: string): ParameterReading | undefined {
  const matter = 'InputParameters/matter_options';
  const model = rawAttribute(f, matter, 'SOURCE_MODEL');
  const path = `${matter}@SOURCE_MODEL`;
  if (model === undefined || model === null) {
    const beta = flagAt(f, 'InputParameters/astro_options', 'USE_MASS_DEPENDENT_ZETA');
    if (isMissing(beta)) {
      return {
        kind: 'refused',
        reason: `${path} is missing (and so is ${beta.path}), so the file does not say which source model uses ${parameter}`,
      };
    }
    return refusedBy(
      [[beta, true]],
      `the ionising efficiency comes from F_STAR10 and F_ESC10, so ${parameter} is unused`,
    );
  }
  if (model === 'CONST-ION-EFF') return undefined;
  return {
    kind: 'refused',
    reason:
      `${path} = ${shown(model)}: ${parameter} has the paper's meaning only in the "CONST-ION-EFF" model; ` +
      'this one derives the ionising efficiency from F_STAR10 and F_ESC10 and turns galaxies over at M_TURN',
  };
}

function v4Readings(f: H5File, version: string): ParameterReadings {
  const options = (name: string) => flagAt(f, 'InputParameters/astro_options', name);
  const params = 'InputParameters/astro_params';
  const miniHalos = options('USE_MINI_HALOS');
  const xRayHeating = options('USE_X_RAY_HEATING');
  const xRays = refusedBy(
    [
      [options('USE_TS_FLUCT'), false],
      // 4.0 betas had no such switch: X-rays always heated.
      ...(isMissing(xRayHeating) ? [] : [[xRayHeating, false] as [Flag, boolean]]),
    ],
    'X-rays do not heat the gas, so L_X and NU_X_THRESH are unused',
  );
  const minihaloRule = (parameter: string) =>
    refusedBy([[miniHalos, true]], `with minihalos the sources are not described by one ${parameter}`);
  const zeta = v4SourceModelRefusal(f, 'HII_EFF_FACTOR') ?? minihaloRule('ionising efficiency ζ');
  const tvir =
    v4SourceModelRefusal(f, 'ION_Tvir_MIN') ??
    minihaloRule('minimum virial temperature') ??
    refusedBy(
      [[options('M_MIN_in_Mass'), true]],
      'the minimum source mass is set in mass (M_TURN), so ION_Tvir_MIN is unused',
    );
  return byParameter((name) => {
    switch (name) {
      case 'mWDM':
        return {
          kind: 'refused',
          reason: `21cmFAST ${version} has no warm-dark-matter model (its files are cold dark matter), so the file gives no m_WDM`,
        };
      case 'omegaM':
        return numberAt(f, 'InputParameters/cosmo_params', 'OMm');
      case 'E0':
        return xRays ?? numberAt(f, params, 'NU_X_THRESH');
      case 'log10LX':
        return xRays ?? numberAt(f, params, 'L_X');
      case 'log10Tvir':
        return tvir ?? numberAt(f, params, 'ION_Tvir_MIN');
      case 'zeta':
        return zeta ?? numberAt(f, params, 'HII_EFF_FACTOR');
    }
  });
}

/** The six parameters as an open 21cmFAST lightcone file of `layout` gives them. */
export function readParameterAttributes(f: H5File, layout: 'v3' | 'v4', version: string): ParameterReadings {
  return layout === 'v3' ? v3Readings(f) : v4Readings(f, version);
}
