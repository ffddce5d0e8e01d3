// Whether a run used a field of its config. A resolved config.json holds every field, defaults
// included, also those its other settings make irrelevant: `training.steps` of a run counted in
// epochs, the simulator's settings of a run on files, the LoRA rank of a frozen backbone. Listing
// those as differences between runs is noise, so the config table and the run names leave a field
// out where the run's own settings say it is not read. The rules follow the schema's descriptions
// of each field (schemas/l3m-experiment.schema.json); where a setting they depend on is absent, the
// field counts as used, since nothing says otherwise. Pure: no DOM.

type Get = (path: string) => unknown;

interface Rule {
  /** A dotted path; the rule covers the path and everything under it. */
  path: string;
  /** Whether the run reads the field; undefined when the config does not say (then it counts as used). */
  used(get: Get): boolean | undefined;
}

/** True when `path` holds `value`; undefined when `path` is absent. */
const is =
  (path: string, ...values: unknown[]) =>
  (get: Get): boolean | undefined => {
    const v = get(path);
    return v === undefined ? undefined : values.includes(v);
  };
const generation = is('task', 'generation');
const regression = is('task', 'regression');
/** Both conditions; false as soon as one is false, undefined when neither is false and one is unknown. */
const both =
  (a: Rule['used'], b: Rule['used']) =>
  (get: Get): boolean | undefined => {
    const x = a(get);
    const y = b(get);
    if (x === false || y === false) return false;
    return x === undefined || y === undefined ? undefined : true;
  };
const mlpConnector = (name: string): Rule[] =>
  ['mlp_depth', 'mlp_width'].map((field) => ({
    path: `connectors.${name}.${field}`,
    used: is(`connectors.${name}.kind`, 'mlp'),
  }));

// More specific paths after the general ones: every rule that covers a path must hold.
const rules: readonly Rule[] = [
  { path: 'training.steps', used: is('training.unit', 'steps') },
  { path: 'training.epochs', used: is('training.unit', 'epochs') },
  { path: 'training.interleaved', used: regression },
  { path: 'training.lr_ratios.parameter_connectors', used: generation },
  { path: 'training.early_stopping.patience', used: is('training.early_stopping.enabled', true) },
  { path: 'training.early_stopping.min_delta', used: is('training.early_stopping.enabled', true) },
  { path: 'backbone.architecture', used: is('backbone.source', 'random') },
  { path: 'backbone.path', used: is('backbone.source', 'pretrained') },
  { path: 'backbone.lora', used: is('backbone.finetune', 'lora') },
  { path: 'prompt.trainable_system_tokens', used: is('prompt.template', 'chat_trainable') },
  { path: 'prompt.trainable_lightcone_tokens', used: is('prompt.template', 'chat_trainable') },
  { path: 'connectors.parameters', used: generation },
  { path: 'connectors.t_index', used: generation },
  { path: 'connectors.t_index.kind', used: is('connectors.t_index.enabled', true) },
  { path: 'connectors.t_index.mlp_depth', used: is('connectors.t_index.enabled', true) },
  { path: 'connectors.t_index.mlp_width', used: is('connectors.t_index.enabled', true) },
  ...mlpConnector('lightcone'),
  ...mlpConnector('parameters'),
  ...mlpConnector('t_index'),
  {
    path: 'head.mlp_width',
    used: (get) => (typeof get('head.mlp_depth') === 'number' ? Number(get('head.mlp_depth')) > 0 : undefined),
  },
  { path: 'head.rtol', used: is('head.solver', 'dopri5') },
  { path: 'head.atol', used: is('head.solver', 'dopri5') },
  { path: 'data.simulator', used: is('data.source', 'simulator') },
  { path: 'data.files', used: is('data.source', 'files') },
  { path: 'data.files.labels', used: is('data.files.format', 'hdf5') },
  { path: 'data.preprocessing.tokens', used: regression },
  {
    path: 'data.preprocessing.global_signal_tokens',
    used: both(regression, is('data.preprocessing.tokens', 'global_signal')),
  },
  {
    path: 'data.preprocessing.patch_mean_shape',
    used: both(regression, is('data.preprocessing.tokens', 'patch_mean')),
  },
  { path: 'data.preprocessing.trim_keep_slices', used: is('data.preprocessing.trim', true) },
  { path: 'data.patch_size', used: generation },
  { path: 'data.sublightcone', used: generation },
  { path: 'data.augmentation', used: generation },
  { path: 'evaluation.regression_samples', used: regression },
  { path: 'evaluation.regression_bins', used: regression },
  { path: 'evaluation.validation_windows', used: generation },
  { path: 'evaluation.next_patch_mse', used: generation },
  { path: 'evaluation.next_patch_lightcones', used: both(generation, is('evaluation.next_patch_mse', true)) },
  { path: 'evaluation.cfm_samples_per_patch', used: both(generation, is('evaluation.next_patch_mse', true)) },
  { path: 'evaluation.generated_lightcones', used: generation },
  {
    path: 'evaluation.generation_context_slices',
    used: both(generation, (get) =>
      typeof get('evaluation.generated_lightcones') === 'number'
        ? Number(get('evaluation.generated_lightcones')) > 0
        : undefined,
    ),
  },
  {
    path: 'evaluation.generation_slices',
    used: both(generation, (get) =>
      typeof get('evaluation.generated_lightcones') === 'number'
        ? Number(get('evaluation.generated_lightcones')) > 0
        : undefined,
    ),
  },
  { path: 'runtime.allow_software_gpu', used: is('runtime.backend', 'webgpu', 'auto') },
];

/** The value at a dotted path of a parsed config (arrays by index), or undefined. */
export function valueAt(config: unknown, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Object.prototype.hasOwnProperty.call(node, key) ? (Reflect.get(node, key) as unknown) : undefined;
  }
  return node;
}

/** Whether the run whose resolved config this is reads the field at `path` (a flattened, dotted path). */
export function fieldUsed(config: unknown, path: string): boolean {
  const get: Get = (p) => valueAt(config, p);
  return rules.every((rule) => !(path === rule.path || path.startsWith(`${rule.path}.`)) || rule.used(get) !== false);
}
