// The six simulation parameters of the L3M dataset (paper Table 1; docs/simulator.md#parameters) in the one
// canonical order used everywhere in L3M Studio: model outputs, labels, panels and metric names.
// The order is the reference code's positional label order [m, Om, E0, log LX, log Tvir, zeta]
// (docs/paper-mapping.md#parameters), so results line up with the paper's figures.

export const parameterNames = ['mWDM', 'omegaM', 'E0', 'log10LX', 'log10Tvir', 'zeta'] as const;
export type ParameterName = (typeof parameterNames)[number];

/**
 * The config's (schema's) snake_case name of each parameter: `data.files.label_order`, the simulator's
 * priors, the explicit labels (`data.files.labels`) and labels files use these.
 */
export const schemaParameterNames = {
  mWDM: 'm_wdm',
  omegaM: 'omega_m',
  E0: 'e_0',
  log10LX: 'log10_l_x',
  log10Tvir: 'log10_t_vir',
  zeta: 'zeta',
} as const satisfies Record<ParameterName, string>;
export type SchemaParameterName = (typeof schemaParameterNames)[ParameterName];

/** Canonical name of a schema (snake_case) parameter name. */
export const parameterFromSchemaName: Readonly<Record<SchemaParameterName, ParameterName>> = {
  m_wdm: 'mWDM',
  omega_m: 'omegaM',
  e_0: 'E0',
  log10_l_x: 'log10LX',
  log10_t_vir: 'log10Tvir',
  zeta: 'zeta',
};

/** The six parameters of one lightcone, in physical units (not normalised). */
export type AstroParams = Record<ParameterName, number>;

export interface ParameterInfo {
  /** Symbol for plots and tables. */
  label: string;
  unit: string;
  /** Prior bounds of the dataset, also the min-max normalisation bounds (paper Eq. 32). */
  min: number;
  max: number;
  /** How the dataset draws it: uniform in the stored quantity (log10 T_vir and log10 L_X are stored as logs). */
  fiducial: number;
}

/** Prior bounds of the reference code (`src/utils/datasets.py`), which the paper's Table 1 gives too. */
export const parameterInfo: Readonly<Record<ParameterName, ParameterInfo>> = {
  mWDM: { label: 'm_WDM', unit: 'keV', min: 0.3, max: 10, fiducial: 2 },
  omegaM: { label: 'Ω_m', unit: '', min: 0.2, max: 0.4, fiducial: 0.30966 },
  E0: { label: 'E_0', unit: 'eV', min: 100, max: 1500, fiducial: 500 },
  log10LX: { label: 'log₁₀ L_X', unit: 'erg s⁻¹ M_⊙⁻¹ yr', min: 38, max: 42, fiducial: 40 },
  log10Tvir: { label: 'log₁₀ T_vir', unit: 'K', min: 4.0, max: 5.3, fiducial: 4.69897 },
  zeta: { label: 'ζ', unit: '', min: 10, max: 250, fiducial: 30 },
};

/**
 * A record with one value per parameter, `value` called in the canonical order (so that a check that
 * throws names the first parameter as a loop would). The literal lists every name, so the type
 * checker proves the record complete.
 */
export function byParameter<T>(value: (name: ParameterName, index: number) => T): Record<ParameterName, T> {
  return {
    mWDM: value('mWDM', 0),
    omegaM: value('omegaM', 1),
    E0: value('E0', 2),
    log10LX: value('log10LX', 3),
    log10Tvir: value('log10Tvir', 4),
    zeta: value('zeta', 5),
  };
}

export const fiducialParams: AstroParams = byParameter((name) => parameterInfo[name].fiducial);

/** Min-max normalisation to [0, 1] (paper Eq. 32). */
export function normalizeParams(params: AstroParams): Float64Array {
  return Float64Array.from(parameterNames, (name) => {
    const { min, max } = parameterInfo[name];
    return (params[name] - min) / (max - min);
  });
}

/** Inverse of `normalizeParams`. */
export function denormalizeParams(normalized: ArrayLike<number>): AstroParams {
  if (normalized.length !== parameterNames.length) {
    throw new Error(`denormalizeParams: expected ${parameterNames.length} values, got ${normalized.length}`);
  }
  return byParameter((name, i) => {
    const { min, max } = parameterInfo[name];
    return min + normalized[i] * (max - min);
  });
}
