// generated, do not edit: derived from schemas/l3m-experiment.schema.json by scripts/gen-config-types.mjs
// (run `npm run gen:types` after changing the schema; test/unit/config_types.test.ts checks it is current).

/**
 * An L3M Studio experiment (*.l3m.json): a Lightcone LLM (arXiv 2506.14757) regression or generation setup.
 */
export interface ExperimentConfig {
  /**
   * JSON schema of this file, for editors without L3M Studio (e.g. "../schemas/l3m-experiment.schema.json").
   */
  $schema?: string;
  /**
   * Experiment name: runs are stored under runs/<name>/. Letters, digits, dot, dash and underscore.
   */
  name: string;
  /**
   * `regression`: infer the six parameters from a lightcone (paper Sec. 4); `generation`: generate lightcone slices patch by patch (paper Sec. 5).
   */
  task: 'regression' | 'generation';
  backbone?: Backbone;
  prompt?: Prompt;
  connectors?: Connectors;
  /**
   * Output head: `{ "kind": "gaussian" }` for regression (default when `task` = `regression`) or `{ "kind": "cfm" }` for generation (default when `task` = `generation`).
   */
  head?: GaussianHead | CfmHead;
  data?: Data;
  training?: Training;
  evaluation?: Evaluation;
  runtime?: Runtime;
}
/**
 * The LLM backbone: a Qwen2 decoder, either a pretrained Hugging Face checkpoint (Qwen2.5) or a randomly initialised Qwen2-shaped network.
 */
export interface Backbone {
  /**
   * Where the backbone weights come from: `pretrained` loads a local Hugging Face checkpoint folder (`path`); `random` initialises a network of shape `architecture` (reference networks, random-backbone ablations).
   */
  source?: 'pretrained' | 'random';
  /**
   * Folder of a Hugging Face Qwen2 checkpoint (config.json, tokenizer.json, model.safetensors or model.safetensors.index.json + shards), relative to this config file or absolute. Used when `source` = `pretrained`. While editing a missing folder is a warning (it may live on the training machine); starting a run needs it.
   */
  path?: string;
  architecture?: Architecture;
  /**
   * What of the backbone is trained: `frozen` (only connectors, special tokens and head; the regression setup), `lora` (low-rank adapters, see `lora`), `full` (every backbone weight except the token embeddings; the generation setup). Default: `frozen` for regression, `full` for generation.
   */
  finetune?: 'frozen' | 'lora' | 'full';
  lora?: Lora;
  /**
   * Dropout on the attention weights after the softmax, active in training only (reference `attn_drop`: 0.001 in its regression example, 0.01 in generation).
   */
  attention_dropout?: number;
  /**
   * Reset the final RMSNorm scale to ones instead of loading it from the checkpoint, as the reference code does for both tasks.
   */
  reinit_final_norm?: boolean;
  /**
   * Causal attention mask. The paper's regression reference networks attend in both directions (false); generation must be causal.
   */
  causal?: boolean;
}
/**
 * Shape of a randomly initialised Qwen2 backbone (`backbone.source` = `random`). Ignored for a pretrained backbone, whose shape comes from the checkpoint's config.json. Defaults are Qwen2.5-0.5B-Instruct, so that `random` means "the same network, untrained" as in the paper's random-backbone runs.
 */
export interface Architecture {
  /**
   * Width of the residual stream (HF `hidden_size`). It must be divisible by `num_attention_heads`, and the head dimension hidden_size / num_attention_heads must be even for rotary embeddings.
   */
  hidden_size?: number;
  /**
   * Number of decoder blocks (HF `num_hidden_layers`).
   */
  num_hidden_layers?: number;
  /**
   * Number of query heads (HF `num_attention_heads`). It must be a multiple of `num_key_value_heads`.
   */
  num_attention_heads?: number;
  /**
   * Number of key/value heads for grouped-query attention (HF `num_key_value_heads`). Query head h uses KV head floor(h / (n_q / n_kv)).
   */
  num_key_value_heads?: number;
  /**
   * Width of the SwiGLU MLP: down(silu(gate(x)) * up(x)) (HF `intermediate_size`).
   */
  intermediate_size?: number;
  /**
   * Epsilon inside the RMSNorm square root (HF `rms_norm_eps`).
   */
  rms_norm_eps?: number;
  /**
   * Base of the rotary position embedding frequencies, inv_freq = theta^(-2i/d) (HF `rope_theta`). Qwen2.5 uses 1e6; the reference code's scratch networks use 1e4.
   */
  rope_theta?: number;
  /**
   * Longest sequence the rotary tables are built for (HF `max_position_embeddings`). Prompts plus lightcone tokens must fit.
   */
  max_position_embeddings?: number;
  /**
   * Share the token embedding matrix with the (unused) LM head, as Qwen2.5-0.5B does (HF `tie_word_embeddings`).
   */
  tie_word_embeddings?: boolean;
  /**
   * Rows of the token embedding matrix (HF `vocab_size`). A random backbone with the minimal template needs only the few special tokens; keep it small for reference networks, since embeddings count as parameters.
   */
  vocab_size?: number;
}
/**
 * Low-rank adapters (LoRA) on the backbone's linear layers, used when `backbone.finetune` = `lora`. Each adapted layer W becomes W + (alpha / rank) · B A with A random and B zero at the start.
 */
export interface Lora {
  /**
   * Rank r of the adapters. It must be below the smallest dimension of every adapted layer. The paper compares r = 8 and r = 2.
   */
  rank?: number;
  /**
   * Scaling numerator alpha (the update is scaled by alpha / rank). `null` means 2 × rank, the reference code's choice: the update is scaled by 2 whatever the rank (docs/paper-mapping.md#finetuning).
   */
  alpha?: number | null;
  /**
   * Which linear layers of every decoder block get adapters. The reference code adapts all seven projections of all layers.
   *
   * @minItems 1
   * @maxItems 7
   *
   * Items: A linear layer of a Qwen2 decoder block.
   */
  targets?:
    | ['q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj']
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ];
  /**
   * Dropout on the adapter input during training (peft `lora_dropout`; the reference uses 0).
   */
  dropout?: number;
  /**
   * Also train the RMSNorm scales of every block and the final norm (reference `train_norms`).
   */
  train_norms?: boolean;
}
/**
 * How the lightcone tokens are wrapped in a prompt (paper Sec. 4.1).
 */
export interface Prompt {
  /**
   * Prompt template: `minimal` (only the special tokens and the lightcone), `chat` (the Qwen chat template with system/user/assistant turns), `chat_trainable` (the chat template whose system prompt and lightcone marker are trainable tokens).
   */
  template?: 'minimal' | 'chat' | 'chat_trainable';
  /**
   * Number of trainable <|system-prompt-token|> embeddings in the system turn (template `chat_trainable`; reference `num_sys_prompt_tokens`).
   */
  trainable_system_tokens?: number;
  /**
   * Number of trainable <|lightcone-token|> embeddings placed before the lightcone (template `chat_trainable`; reference `num_pre_lc_tokens`).
   */
  trainable_lightcone_tokens?: number;
}
/**
 * Affine maps between numerical data and the backbone's hidden space (paper Sec. 3): one per input modality. The output side is `head`.
 */
export interface Connectors {
  lightcone?: LightconeConnector;
  parameters?: ParameterConnector;
  t_index?: TIndexConnector;
}
/**
 * Input connector of the lightcone tokens: a global-signal or patch-mean scalar (regression, Linear 1 → hidden) or a flattened patch (generation, Linear patch² → hidden).
 */
export interface LightconeConnector {
  /**
   * Connector type: `linear` (one affine map, the paper's choice) or `mlp` (Linear → [GELU, Linear] × depth → GELU → Linear).
   */
  kind?: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth?: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`; reference default 64).
   */
  mlp_width?: number;
}
/**
 * Input connector of the six parameter tokens of the generation prompt: one map 1 → hidden per parameter.
 */
export interface ParameterConnector {
  /**
   * Connector type: `linear` (one affine map, the paper's choice) or `mlp` (Linear → [GELU, Linear] × depth → GELU → Linear).
   */
  kind?: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth?: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`; reference default 64).
   */
  mlp_width?: number;
}
/**
 * Input connector of the start-slice index token of a generation sublightcone (normalised (t − 1175)/2350 in the reference).
 */
export interface TIndexConnector {
  /**
   * Feed the start-slice index to the model. The reference code means to, but writes the value only when no position tensor is passed, which never happens, so its model has no absolute time (docs/paper-mapping.md#diff-t-index); true gives the model its absolute position in the lightcone.
   */
  enabled?: boolean;
  /**
   * Connector type: `linear` or `mlp` (see the lightcone connector).
   */
  kind?: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth?: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_width?: number;
}
/**
 * Regression head (paper Eq. 34-37): six sigmoid means in [0, 1] and the Cholesky factor of the full precision matrix (softplus diagonal, row n scaled by 1/sqrt(0.25·n)), trained with the heteroskedastic Gaussian negative log-likelihood.
 */
export interface GaussianHead {
  /**
   * Head type `gaussian`: heteroskedastic Gaussian with full covariance (regression).
   */
  kind: 'gaussian';
  /**
   * Covariance structure: `full` (21 Cholesky entries, the paper) or `diagonal` (six variances, for ablations).
   */
  covariance?: 'full' | 'diagonal';
  /**
   * Hidden layers before the output map: 0 is the paper's single linear map hidden → 27; more adds GELU layers (reference `head.cls = mlp`).
   */
  mlp_depth?: number;
  /**
   * Width of the hidden layers when `mlp_depth` > 0 (reference default 64).
   */
  mlp_width?: number;
}
/**
 * Generation head: conditional flow matching (CFM) with a velocity CNN on patch × patch images (paper Sec. 5, Eq. 41; the reference code's `cnn` CFM head; docs/paper-mapping.md#cfm).
 */
export interface CfmHead {
  /**
   * Head type `cfm`: conditional flow matching (generation).
   */
  kind: 'cfm';
  /**
   * Channels of the velocity CNN (reference `chs` 64).
   */
  channels?: number;
  /**
   * Residual blocks of the velocity CNN, each x + Conv1×1(SiLU(Conv k×k(SiLU(x)))) (reference `depth` 6).
   */
  blocks?: number;
  /**
   * Channel factor inside a residual block (channels → factor · channels → channels; reference 2).
   */
  residual_factor?: number;
  /**
   * Kernel size of the k×k convolutions; odd so that "same" padding keeps the patch size (reference 3).
   */
  kernel_size?: number;
  /**
   * Channels of the condition image: the backbone output is mapped to cond_channels × patch × patch values (reference cond_dim 392 = 2 × 14 × 14).
   */
  cond_channels?: number;
  /**
   * Model each patch as the same patch of the previous slice plus a change, and give the velocity CNN that previous patch as one more condition channel. The flow then carries noise to the change, not to the patch: an untrained head starts at the previous-slice forecast, and the CNN sees the pixels the backbone's hidden state cannot hold. Not in the paper (false reproduces its head); the first slice of a sequence uses a zero previous patch.
   */
  previous_slice_residual?: boolean;
  /**
   * ODE solver that integrates the velocity field from τ = 0 (noise) to 1 (sample). `dopri5` is the reference code's adaptive solver (torchdiffeq, rtol = atol = 1e-3); the fixed-step solvers have a predictable cost.
   */
  solver?: 'euler' | 'midpoint' | 'rk4' | 'dopri5';
  /**
   * Steps of a fixed-step solver (euler, midpoint, rk4); for dopri5 the initial number of steps.
   */
  steps?: number;
  /**
   * Relative tolerance of the adaptive solver `dopri5` (reference 1e-3).
   */
  rtol?: number;
  /**
   * Absolute tolerance of the adaptive solver `dopri5` (reference 1e-3).
   */
  atol?: number;
}
/**
 * Training data: the built-in 21cm lightcone simulator (no download needed) or lightcone files, with splits, preprocessing, tokenisation and augmentation.
 */
export interface Data {
  /**
   * `simulator`: lightcones made by the built-in simulator (cached on disk after the first run); `files`: lightcones read from `files.path`.
   */
  source?: 'simulator' | 'files';
  simulator?: Simulator;
  files?: DataFiles;
  splits?: Splits;
  preprocessing?: Preprocessing;
  /**
   * Side of the square spatial patches of generation tokens, in cells (paper: 14 on 140 × 140 slices). It must divide the slice size. Default: 14, or 8 on the built-in simulator's 32- and 64-cell presets (test, default, faithful), which 14 does not divide.
   */
  patch_size?: number;
  sublightcone?: Sublightcone;
  /**
   * Most memory, in MB, that decoded chunks of the dataset's store may take while training, evaluating and sampling (a least-recently-used cache). The dataset is converted once into a chunked store in the cache folder and read from there, so memory stays the same whatever the dataset's size; the run's "Data:" line shows the value.
   */
  cache_mb?: number;
  augmentation?: Augmentation;
}
/**
 * The built-in semi-numerical 21cm simulator (docs/simulator.md), used when `data.source` = `simulator`.
 */
export interface Simulator {
  /**
   * Simulation size preset: `test` (32 cells, < 1 s a cone), `default` (32 cells, finer time steps; the quickstart set), `faithful` (64 cells with 21cmFAST's numerical settings), `half_paper` (70 cells, 1175 slices: half the paper's resolution), `paper_coarse` (the paper's 140 cells over 200 Mpc and 2350 slices, with `test`'s coarse time steps: for running the paper's shapes), `global_signal` (16 cells over 50 Mpc with coarser steps, about 0.3 s a cone: enough for the global signal, which only needs the box mean; the regression quickstart's set).
   */
  preset?: 'test' | 'default' | 'faithful' | 'half_paper' | 'paper_coarse' | 'global_signal';
  /**
   * Number of lightcones to simulate (train + validation + test). The paper's dataset has about 5000.
   */
  count?: number;
  /**
   * Seed of the parameter draws and of the simulations; the same seed gives the same dataset.
   */
  seed?: number;
  priors?: Priors;
}
/**
 * Uniform prior range of each parameter (stored quantity: log10 T_vir and log10 L_X are drawn uniformly in the log). Narrow a range to study a sub-space.
 */
export interface Priors {
  m_wdm?: PriorMWdm;
  omega_m?: PriorOmegaM;
  e_0?: PriorE_0;
  log10_l_x?: PriorLog10LX;
  log10_t_vir?: PriorLog10TVir;
  zeta?: PriorZeta;
}
/**
 * Warm dark matter particle mass m_WDM in keV: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorMWdm {
  /**
   * Lower end of the prior of m_wdm. It must lie inside [0.3, 10], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of m_wdm. It must lie inside [0.3, 10], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * Matter density Ω_m: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorOmegaM {
  /**
   * Lower end of the prior of omega_m. It must lie inside [0.2, 0.4], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of omega_m. It must lie inside [0.2, 0.4], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * X-ray energy threshold E_0 in eV (21cmFAST NU_X_THRESH): the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorE_0 {
  /**
   * Lower end of the prior of e_0. It must lie inside [100, 1500], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of e_0. It must lie inside [100, 1500], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * log₁₀ of the X-ray luminosity per star formation rate L_X in erg s⁻¹ M_⊙⁻¹ yr: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorLog10LX {
  /**
   * Lower end of the prior of log10_l_x. It must lie inside [38, 42], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of log10_l_x. It must lie inside [38, 42], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * log₁₀ of the minimum virial temperature of star-forming haloes T_vir in K: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorLog10TVir {
  /**
   * Lower end of the prior of log10_t_vir. It must lie inside [4, 5.3], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of log10_t_vir. It must lie inside [4, 5.3], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * Ionising efficiency ζ (21cmFAST HII_EFF_FACTOR): the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface PriorZeta {
  /**
   * Lower end of the prior of zeta. It must lie inside [10, 250], the dataset bounds, and below max.
   */
  min?: number;
  /**
   * Upper end of the prior of zeta. It must lie inside [10, 250], the dataset bounds, and above min.
   */
  max?: number;
}
/**
 * Lightcone files, used when `data.source` = `files`.
 */
export interface DataFiles {
  /**
   * File format: `npz` (the paper's dataset: a folder of .npz files with `image` [x, y, t] and `label`), `hdf5` (21cmFAST LightCone files, v3 or v4), `npy` (NumPy arrays with a JSON of parameters).
   */
  format?: 'npz' | 'hdf5' | 'npy';
  /**
   * Folder (or single file) holding the lightcones, relative to this config file or absolute. While editing a missing path is a warning; starting a run needs it.
   */
  path?: string;
  /**
   * Order of the six parameters in the last six entries of each file's label. Default: the order the reference code and skatr use, [m_WDM, Ω_m, E_0, log10 L_X, log10 T_vir, ζ]; the reference README lists log10 L_X before E_0.
   *
   * @minItems 6
   * @maxItems 6
   *
   * Items: A parameter name.
   */
  label_order?: [
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta'
  ];
  /**
   * Expected transverse size of the slices in cells (the paper's data: 140 × 140). Used to check `patch_size` while editing; the loader checks it against the files.
   */
  transverse_cells?: number;
  labels?: DataLabels;
}
/**
 * Labels given explicitly for 21cmFAST HDF5 files (format = hdf5). A file's attributes give a parameter only where the file's source model gives it the paper's meaning (docs/paper-mapping.md#labels); any other parameter must be given here, or the file is refused. An explicit value replaces the file's own, and each parameter may come from file or fixed, not both.
 */
export interface DataLabels {
  /**
   * JSON file, relative to this config file or absolute, that maps every lightcone file name in files.path to the parameters it gives explicitly, by their config names: {"cone_0001.h5": {"m_wdm": 3.2, "zeta": 41.5}, "cone_0002.h5": {}, …}. Every file needs an entry; {} keeps all of the file's own values. pandas writes one with DataFrame.to_json(orient="index"). null: no labels file.
   */
  file?: string | null;
  fixed?: FixedLabels;
}
/**
 * Values shared by every lightcone, per parameter: for a parameter the dataset does not vary, or that its model lacks (21cmFAST 4 files are cold dark matter, so m_wdm is fixed here, e.g. at the prior's upper end).
 */
export interface FixedLabels {
  /**
   * Warm dark matter particle mass m_WDM in keV, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [0.3, 10], the dataset bounds of the paper's Table 1.
   */
  m_wdm?: number | null;
  /**
   * Matter density Ω_m, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [0.2, 0.4], the dataset bounds of the paper's Table 1.
   */
  omega_m?: number | null;
  /**
   * X-ray energy threshold E_0 in eV, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [100, 1500], the dataset bounds of the paper's Table 1.
   */
  e_0?: number | null;
  /**
   * log10 of the X-ray luminosity per star formation rate L_X in erg s⁻¹ M_⊙⁻¹ yr, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [38, 42], the dataset bounds of the paper's Table 1.
   */
  log10_l_x?: number | null;
  /**
   * log10 of the minimum virial temperature T_vir of star-forming halos in K, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [4.0, 5.3], the dataset bounds of the paper's Table 1.
   */
  log10_t_vir?: number | null;
  /**
   * Ionising efficiency ζ, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [10, 250], the dataset bounds of the paper's Table 1.
   */
  zeta?: number | null;
}
/**
 * Split of the lightcones into training, validation and test sets, by lightcone, fixed by `seed` and independent of directory order.
 */
export interface Splits {
  /**
   * Fraction of the lightcones used for validation.
   */
  validation_fraction?: number;
  /**
   * Fraction of the lightcones held out for the final test evaluation.
   */
  test_fraction?: number;
  /**
   * Seed of the split (the reference code uses 42).
   */
  seed?: number;
}
/**
 * How lightcones become tokens and targets.
 */
export interface Preprocessing {
  /**
   * Regression input tokens: `global_signal` (spatial mean per slice, downsampled to `global_signal_tokens` values; the paper) or `patch_mean` (means over `patch_mean_shape` blocks; the reference code's input).
   */
  tokens?: 'global_signal' | 'patch_mean';
  /**
   * Number of global-signal tokens (the paper: 47).
   */
  global_signal_tokens?: number;
  /**
   * Block shape [t, x, y] of the `patch_mean` tokens, time first (reference example [10, 28, 28]).
   *
   * @minItems 3
   * @maxItems 3
   *
   * Items: Block length along one axis, in cells.
   */
  patch_mean_shape?: [number, number, number];
  /**
   * Brightness-temperature transform before standardisation: `sgn_log1p` sgn(x)·ln(1 + |x|) (the reference code; finite at 0), `sgn_log` sgn(x)·ln|x| (paper Eq. 38; zero cells map to 0), `none`.
   */
  slice_transform?: 'sgn_log1p' | 'sgn_log' | 'none';
  /**
   * Standardise the transformed values with the training set's mean and standard deviation.
   */
  standardize?: boolean;
  /**
   * Drop the late, fully ionised all-zero period of each lightcone, keeping `trim_keep_slices` zero slices.
   */
  trim?: boolean;
  /**
   * Number of all-zero slices kept after trimming (paper: 100).
   */
  trim_keep_slices?: number;
}
/**
 * Training windows of the generation task: `length` consecutive slices, of which the first `context` carry no loss.
 */
export interface Sublightcone {
  /**
   * Slices per training sublightcone (paper: 12).
   */
  length?: number;
  /**
   * Leading context slices of each window that get no loss (paper: 2). Must be below `length`.
   */
  context?: number;
  /**
   * Step between window starts in slices; `null` means length − context (consecutive windows overlap by the context, as the reference).
   */
  stride?: number | null;
}
/**
 * Random symmetries of the periodic box applied to training windows (generation).
 */
export interface Augmentation {
  /**
   * Random rotation by a multiple of 90° in the transverse plane.
   */
  rotations?: boolean;
  /**
   * Random mirror (transpose) in the transverse plane.
   */
  reflections?: boolean;
  /**
   * Random periodic translation in x and y.
   */
  translations?: boolean;
}
/**
 * Optimisation: batch size, length, learning-rate schedule, optimizer, clipping and checkpoints.
 */
export interface Training {
  /**
   * Lightcones (regression) or sublightcones (generation) per optimizer step.
   */
  batch_size?: number;
  /**
   * Micro-batches whose gradients are summed before one optimizer step.
   */
  gradient_accumulation_steps?: number;
  /**
   * Keep only each decoder block's input (and none of the velocity CNN's activations) in the forward pass and recompute the rest block by block, and the CNN a chunk of patches at a time, in the backward pass. Training memory then grows with one block rather than all of them, for about one more forward pass of compute: what lets the paper's 1353-token windows train within the wasm backend's 4 GiB. The gradients are the same up to float rounding.
   */
  recompute_activations?: boolean;
  /**
   * Unit of `epochs`/`steps`, `schedule`, `checkpoint_every` and `evaluation.every`: `epochs` or optimizer `steps`.
   */
  unit?: 'epochs' | 'steps';
  /**
   * Training length in epochs when `unit` = `epochs` (reference examples: 3).
   */
  epochs?: number;
  /**
   * Training length in optimizer steps when `unit` = `steps`.
   */
  steps?: number;
  /**
   * Base learning rate (reference 5e-5).
   */
  lr?: number;
  schedule?: Schedule;
  /**
   * Optimizer: `adamw` (decoupled weight decay; the reference) or `adam` (L2 penalty in the gradient).
   */
  optimizer?: 'adamw' | 'adam';
  /**
   * Adam moment decay rates (beta1, beta2).
   *
   * @minItems 2
   * @maxItems 2
   *
   * Items: A decay rate in [0, 1).
   */
  betas?: [number, number];
  /**
   * Adam epsilon in the denominator.
   */
  eps?: number;
  /**
   * Decoupled (AdamW) weight decay. Regression exempts biases, norm scales and special tokens; generation exempts biases only, as the reference. Default: 0 for regression, 0.001 for generation, as the reference.
   */
  weight_decay?: number;
  /**
   * Clip the global gradient norm to this value; 0 disables clipping. Default: 30 for regression, 1 for generation, as the reference examples.
   */
  max_grad_norm?: number;
  /**
   * Regression with a frozen or LoRA backbone: per batch, first update the input connector and special tokens, then the head on the detached backbone output (the reference code's two optimizers; docs/paper-mapping.md#regression). false trains everything jointly, as for the reference networks.
   */
  interleaved?: boolean;
  lr_ratios?: LrRatios;
  /**
   * Each training lightcone is repeated this many times per epoch (reference `train_ds_multiplicity`).
   */
  train_ds_multiplicity?: number;
  /**
   * Seed of initialisation, batching, augmentation and dropout; with it a run is reproducible.
   */
  seed?: number;
  early_stopping?: EarlyStopping;
  /**
   * Save a checkpoint every this many `unit`s (and at the end); the best one by validation loss is always kept.
   */
  checkpoint_every?: number;
  /**
   * Number of recent checkpoints kept besides the best one.
   */
  keep_checkpoints?: number;
}
/**
 * Warm-up / stable / decay learning-rate schedule (WSD): linear 0 → 1 over `warmup`, constant, then cosine 1 → 0 over `decay`; lengths in `training.unit`.
 */
export interface Schedule {
  /**
   * Length of the linear warm-up.
   */
  warmup?: number;
  /**
   * Length of the constant phase; `null` means the rest of training after warm-up and decay.
   */
  stable?: number | null;
  /**
   * Length of the final cosine decay to zero.
   */
  decay?: number;
}
/**
 * Learning-rate multipliers per parameter group (the base `lr` times the ratio; 0 freezes the group).
 */
export interface LrRatios {
  /**
   * Ratio for the lightcone input connector.
   */
  lightcone_connector?: number;
  /**
   * Ratio for the parameter and t-index connectors (generation).
   */
  parameter_connectors?: number;
  /**
   * Ratio for the trainable special-token embeddings.
   */
  special_tokens?: number;
  /**
   * Ratio for the output head.
   */
  head?: number;
  /**
   * Ratio for the trained backbone weights (LoRA adapters, full finetuning, norms).
   */
  backbone?: number;
}
/**
 * Stop when the validation loss has not improved for `patience` evaluations.
 */
export interface EarlyStopping {
  /**
   * Enable early stopping.
   */
  enabled?: boolean;
  /**
   * Evaluations without improvement before training stops.
   */
  patience?: number;
  /**
   * Smallest decrease of the validation loss that counts as an improvement.
   */
  min_delta?: number;
}
/**
 * Validation during training and the final test evaluation.
 */
export interface Evaluation {
  /**
   * Validate every this many `training.unit`s (reference: every epoch).
   */
  every?: number;
  /**
   * Batch size of validation and test passes.
   */
  batch_size?: number;
  /**
   * Regression: samples drawn from the predicted Gaussian per test lightcone for the calibration plots (reference: 50).
   */
  regression_samples?: number;
  /**
   * Regression: bins of the true value per parameter in the prediction-vs-truth plot (reference: 10).
   */
  regression_bins?: number;
  /**
   * Generation: validation windows at most, the first ones of the validation cones (every stride of `data.sublightcone`). Each is one forward pass, so at the paper's 1353-token windows on a CPU a small number keeps validation to minutes.
   */
  validation_windows?: number;
  /**
   * Generation: compute the teacher-forced next-patch MSE per patch position on the test set.
   */
  next_patch_mse?: boolean;
  /**
   * Generation: test lightcones used for the next-patch MSE (reference `eval_l2_lcs`).
   */
  next_patch_lightcones?: number;
  /**
   * Generation: CFM samples per patch averaged in the next-patch MSE (reference `eval_l2_samples`).
   */
  cfm_samples_per_patch?: number;
  /**
   * Generation: number of test lightcones generated autoregressively after training (reference `eval_generation_lcs`).
   */
  generated_lightcones?: number;
  /**
   * Generation: true slices given as context before autoregressive generation (paper App. B: 5).
   */
  generation_context_slices?: number;
  /**
   * Generation: slices generated per test lightcone (paper App. B: 45).
   */
  generation_slices?: number;
}
/**
 * Where training runs.
 */
export interface Runtime {
  /**
   * TensorFlow.js backend: `auto` picks the first available of cuda, cpu-native, webgpu, wasm, cpu; the others demand one (the run fails with a clear message when it is missing).
   */
  backend?: 'auto' | 'cuda' | 'cpu-native' | 'webgpu' | 'wasm' | 'cpu';
  /**
   * Let backend: "webgpu" run on a software WebGPU adapter (Mesa's llvmpipe through Dawn's OpenGL ES backend) when the machine has no GPU. It executes the same WebGPU kernels on the CPU, several times slower than wasm, so it serves to check the WebGPU path, not to train; auto never picks it.
   */
  allow_software_gpu?: boolean;
  /**
   * Data-parallel workers that share each training step on the wasm and cpu backends, one thread each, each computing its share of the batch's rows; 0 uses every core. More than the machine's cores is clamped, with a warning in the run's log. The environment variable L3M_THREADS, when set, overrides it (a sweep running K runs at once on one machine sets it to floor(cores / K) for each). The summed gradients are the same up to float rounding whatever the count, so a run is reproducible for a given count and differs from another count only in the last bits. Backends with their own threads (cpu-native, cuda, webgpu) train on one worker.
   */
  threads?: number;
}

/**
 * An L3M Studio experiment (*.l3m.json): a Lightcone LLM (arXiv 2506.14757) regression or generation setup.
 */
export interface ResolvedExperimentConfig {
  /**
   * JSON schema of this file, for editors without L3M Studio (e.g. "../schemas/l3m-experiment.schema.json").
   */
  $schema?: string;
  /**
   * Experiment name: runs are stored under runs/<name>/. Letters, digits, dot, dash and underscore.
   */
  name: string;
  /**
   * `regression`: infer the six parameters from a lightcone (paper Sec. 4); `generation`: generate lightcone slices patch by patch (paper Sec. 5).
   */
  task: 'regression' | 'generation';
  backbone: ResolvedBackbone;
  prompt: ResolvedPrompt;
  connectors: ResolvedConnectors;
  /**
   * Output head: `{ "kind": "gaussian" }` for regression (default when `task` = `regression`) or `{ "kind": "cfm" }` for generation (default when `task` = `generation`).
   */
  head: ResolvedGaussianHead | ResolvedCfmHead;
  data: ResolvedData;
  training: ResolvedTraining;
  evaluation: ResolvedEvaluation;
  runtime: ResolvedRuntime;
}
/**
 * The LLM backbone: a Qwen2 decoder, either a pretrained Hugging Face checkpoint (Qwen2.5) or a randomly initialised Qwen2-shaped network.
 */
export interface ResolvedBackbone {
  /**
   * Where the backbone weights come from: `pretrained` loads a local Hugging Face checkpoint folder (`path`); `random` initialises a network of shape `architecture` (reference networks, random-backbone ablations).
   */
  source: 'pretrained' | 'random';
  /**
   * Folder of a Hugging Face Qwen2 checkpoint (config.json, tokenizer.json, model.safetensors or model.safetensors.index.json + shards), relative to this config file or absolute. Used when `source` = `pretrained`. While editing a missing folder is a warning (it may live on the training machine); starting a run needs it.
   */
  path: string;
  architecture: ResolvedArchitecture;
  /**
   * What of the backbone is trained: `frozen` (only connectors, special tokens and head; the regression setup), `lora` (low-rank adapters, see `lora`), `full` (every backbone weight except the token embeddings; the generation setup). Default: `frozen` for regression, `full` for generation.
   */
  finetune: 'frozen' | 'lora' | 'full';
  lora: ResolvedLora;
  /**
   * Dropout on the attention weights after the softmax, active in training only (reference `attn_drop`: 0.001 in its regression example, 0.01 in generation).
   */
  attention_dropout: number;
  /**
   * Reset the final RMSNorm scale to ones instead of loading it from the checkpoint, as the reference code does for both tasks.
   */
  reinit_final_norm: boolean;
  /**
   * Causal attention mask. The paper's regression reference networks attend in both directions (false); generation must be causal.
   */
  causal: boolean;
}
/**
 * Shape of a randomly initialised Qwen2 backbone (`backbone.source` = `random`). Ignored for a pretrained backbone, whose shape comes from the checkpoint's config.json. Defaults are Qwen2.5-0.5B-Instruct, so that `random` means "the same network, untrained" as in the paper's random-backbone runs.
 */
export interface ResolvedArchitecture {
  /**
   * Width of the residual stream (HF `hidden_size`). It must be divisible by `num_attention_heads`, and the head dimension hidden_size / num_attention_heads must be even for rotary embeddings.
   */
  hidden_size: number;
  /**
   * Number of decoder blocks (HF `num_hidden_layers`).
   */
  num_hidden_layers: number;
  /**
   * Number of query heads (HF `num_attention_heads`). It must be a multiple of `num_key_value_heads`.
   */
  num_attention_heads: number;
  /**
   * Number of key/value heads for grouped-query attention (HF `num_key_value_heads`). Query head h uses KV head floor(h / (n_q / n_kv)).
   */
  num_key_value_heads: number;
  /**
   * Width of the SwiGLU MLP: down(silu(gate(x)) * up(x)) (HF `intermediate_size`).
   */
  intermediate_size: number;
  /**
   * Epsilon inside the RMSNorm square root (HF `rms_norm_eps`).
   */
  rms_norm_eps: number;
  /**
   * Base of the rotary position embedding frequencies, inv_freq = theta^(-2i/d) (HF `rope_theta`). Qwen2.5 uses 1e6; the reference code's scratch networks use 1e4.
   */
  rope_theta: number;
  /**
   * Longest sequence the rotary tables are built for (HF `max_position_embeddings`). Prompts plus lightcone tokens must fit.
   */
  max_position_embeddings: number;
  /**
   * Share the token embedding matrix with the (unused) LM head, as Qwen2.5-0.5B does (HF `tie_word_embeddings`).
   */
  tie_word_embeddings: boolean;
  /**
   * Rows of the token embedding matrix (HF `vocab_size`). A random backbone with the minimal template needs only the few special tokens; keep it small for reference networks, since embeddings count as parameters.
   */
  vocab_size: number;
}
/**
 * Low-rank adapters (LoRA) on the backbone's linear layers, used when `backbone.finetune` = `lora`. Each adapted layer W becomes W + (alpha / rank) · B A with A random and B zero at the start.
 */
export interface ResolvedLora {
  /**
   * Rank r of the adapters. It must be below the smallest dimension of every adapted layer. The paper compares r = 8 and r = 2.
   */
  rank: number;
  /**
   * Scaling numerator alpha (the update is scaled by alpha / rank). `null` means 2 × rank, the reference code's choice: the update is scaled by 2 whatever the rank (docs/paper-mapping.md#finetuning).
   */
  alpha: number | null;
  /**
   * Which linear layers of every decoder block get adapters. The reference code adapts all seven projections of all layers.
   *
   * @minItems 1
   * @maxItems 7
   *
   * Items: A linear layer of a Qwen2 decoder block.
   */
  targets:
    | ['q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj']
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ]
    | [
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj',
        'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'
      ];
  /**
   * Dropout on the adapter input during training (peft `lora_dropout`; the reference uses 0).
   */
  dropout: number;
  /**
   * Also train the RMSNorm scales of every block and the final norm (reference `train_norms`).
   */
  train_norms: boolean;
}
/**
 * How the lightcone tokens are wrapped in a prompt (paper Sec. 4.1).
 */
export interface ResolvedPrompt {
  /**
   * Prompt template: `minimal` (only the special tokens and the lightcone), `chat` (the Qwen chat template with system/user/assistant turns), `chat_trainable` (the chat template whose system prompt and lightcone marker are trainable tokens).
   */
  template: 'minimal' | 'chat' | 'chat_trainable';
  /**
   * Number of trainable <|system-prompt-token|> embeddings in the system turn (template `chat_trainable`; reference `num_sys_prompt_tokens`).
   */
  trainable_system_tokens: number;
  /**
   * Number of trainable <|lightcone-token|> embeddings placed before the lightcone (template `chat_trainable`; reference `num_pre_lc_tokens`).
   */
  trainable_lightcone_tokens: number;
}
/**
 * Affine maps between numerical data and the backbone's hidden space (paper Sec. 3): one per input modality. The output side is `head`.
 */
export interface ResolvedConnectors {
  lightcone: ResolvedLightconeConnector;
  parameters: ResolvedParameterConnector;
  t_index: ResolvedTIndexConnector;
}
/**
 * Input connector of the lightcone tokens: a global-signal or patch-mean scalar (regression, Linear 1 → hidden) or a flattened patch (generation, Linear patch² → hidden).
 */
export interface ResolvedLightconeConnector {
  /**
   * Connector type: `linear` (one affine map, the paper's choice) or `mlp` (Linear → [GELU, Linear] × depth → GELU → Linear).
   */
  kind: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`; reference default 64).
   */
  mlp_width: number;
}
/**
 * Input connector of the six parameter tokens of the generation prompt: one map 1 → hidden per parameter.
 */
export interface ResolvedParameterConnector {
  /**
   * Connector type: `linear` (one affine map, the paper's choice) or `mlp` (Linear → [GELU, Linear] × depth → GELU → Linear).
   */
  kind: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`; reference default 64).
   */
  mlp_width: number;
}
/**
 * Input connector of the start-slice index token of a generation sublightcone (normalised (t − 1175)/2350 in the reference).
 */
export interface ResolvedTIndexConnector {
  /**
   * Feed the start-slice index to the model. The reference code means to, but writes the value only when no position tensor is passed, which never happens, so its model has no absolute time (docs/paper-mapping.md#diff-t-index); true gives the model its absolute position in the lightcone.
   */
  enabled: boolean;
  /**
   * Connector type: `linear` or `mlp` (see the lightcone connector).
   */
  kind: 'linear' | 'mlp';
  /**
   * Number of hidden GELU layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_depth: number;
  /**
   * Width of the hidden layers of the `mlp` connector (ignored for `linear`).
   */
  mlp_width: number;
}
/**
 * Regression head (paper Eq. 34-37): six sigmoid means in [0, 1] and the Cholesky factor of the full precision matrix (softplus diagonal, row n scaled by 1/sqrt(0.25·n)), trained with the heteroskedastic Gaussian negative log-likelihood.
 */
export interface ResolvedGaussianHead {
  /**
   * Head type `gaussian`: heteroskedastic Gaussian with full covariance (regression).
   */
  kind: 'gaussian';
  /**
   * Covariance structure: `full` (21 Cholesky entries, the paper) or `diagonal` (six variances, for ablations).
   */
  covariance: 'full' | 'diagonal';
  /**
   * Hidden layers before the output map: 0 is the paper's single linear map hidden → 27; more adds GELU layers (reference `head.cls = mlp`).
   */
  mlp_depth: number;
  /**
   * Width of the hidden layers when `mlp_depth` > 0 (reference default 64).
   */
  mlp_width: number;
}
/**
 * Generation head: conditional flow matching (CFM) with a velocity CNN on patch × patch images (paper Sec. 5, Eq. 41; the reference code's `cnn` CFM head; docs/paper-mapping.md#cfm).
 */
export interface ResolvedCfmHead {
  /**
   * Head type `cfm`: conditional flow matching (generation).
   */
  kind: 'cfm';
  /**
   * Channels of the velocity CNN (reference `chs` 64).
   */
  channels: number;
  /**
   * Residual blocks of the velocity CNN, each x + Conv1×1(SiLU(Conv k×k(SiLU(x)))) (reference `depth` 6).
   */
  blocks: number;
  /**
   * Channel factor inside a residual block (channels → factor · channels → channels; reference 2).
   */
  residual_factor: number;
  /**
   * Kernel size of the k×k convolutions; odd so that "same" padding keeps the patch size (reference 3).
   */
  kernel_size: number;
  /**
   * Channels of the condition image: the backbone output is mapped to cond_channels × patch × patch values (reference cond_dim 392 = 2 × 14 × 14).
   */
  cond_channels: number;
  /**
   * Model each patch as the same patch of the previous slice plus a change, and give the velocity CNN that previous patch as one more condition channel. The flow then carries noise to the change, not to the patch: an untrained head starts at the previous-slice forecast, and the CNN sees the pixels the backbone's hidden state cannot hold. Not in the paper (false reproduces its head); the first slice of a sequence uses a zero previous patch.
   */
  previous_slice_residual: boolean;
  /**
   * ODE solver that integrates the velocity field from τ = 0 (noise) to 1 (sample). `dopri5` is the reference code's adaptive solver (torchdiffeq, rtol = atol = 1e-3); the fixed-step solvers have a predictable cost.
   */
  solver: 'euler' | 'midpoint' | 'rk4' | 'dopri5';
  /**
   * Steps of a fixed-step solver (euler, midpoint, rk4); for dopri5 the initial number of steps.
   */
  steps: number;
  /**
   * Relative tolerance of the adaptive solver `dopri5` (reference 1e-3).
   */
  rtol: number;
  /**
   * Absolute tolerance of the adaptive solver `dopri5` (reference 1e-3).
   */
  atol: number;
}
/**
 * Training data: the built-in 21cm lightcone simulator (no download needed) or lightcone files, with splits, preprocessing, tokenisation and augmentation.
 */
export interface ResolvedData {
  /**
   * `simulator`: lightcones made by the built-in simulator (cached on disk after the first run); `files`: lightcones read from `files.path`.
   */
  source: 'simulator' | 'files';
  simulator: ResolvedSimulator;
  files: ResolvedDataFiles;
  splits: ResolvedSplits;
  preprocessing: ResolvedPreprocessing;
  /**
   * Side of the square spatial patches of generation tokens, in cells (paper: 14 on 140 × 140 slices). It must divide the slice size. Default: 14, or 8 on the built-in simulator's 32- and 64-cell presets (test, default, faithful), which 14 does not divide.
   */
  patch_size: number;
  sublightcone: ResolvedSublightcone;
  /**
   * Most memory, in MB, that decoded chunks of the dataset's store may take while training, evaluating and sampling (a least-recently-used cache). The dataset is converted once into a chunked store in the cache folder and read from there, so memory stays the same whatever the dataset's size; the run's "Data:" line shows the value.
   */
  cache_mb: number;
  augmentation: ResolvedAugmentation;
}
/**
 * The built-in semi-numerical 21cm simulator (docs/simulator.md), used when `data.source` = `simulator`.
 */
export interface ResolvedSimulator {
  /**
   * Simulation size preset: `test` (32 cells, < 1 s a cone), `default` (32 cells, finer time steps; the quickstart set), `faithful` (64 cells with 21cmFAST's numerical settings), `half_paper` (70 cells, 1175 slices: half the paper's resolution), `paper_coarse` (the paper's 140 cells over 200 Mpc and 2350 slices, with `test`'s coarse time steps: for running the paper's shapes), `global_signal` (16 cells over 50 Mpc with coarser steps, about 0.3 s a cone: enough for the global signal, which only needs the box mean; the regression quickstart's set).
   */
  preset: 'test' | 'default' | 'faithful' | 'half_paper' | 'paper_coarse' | 'global_signal';
  /**
   * Number of lightcones to simulate (train + validation + test). The paper's dataset has about 5000.
   */
  count: number;
  /**
   * Seed of the parameter draws and of the simulations; the same seed gives the same dataset.
   */
  seed: number;
  priors: ResolvedPriors;
}
/**
 * Uniform prior range of each parameter (stored quantity: log10 T_vir and log10 L_X are drawn uniformly in the log). Narrow a range to study a sub-space.
 */
export interface ResolvedPriors {
  m_wdm: ResolvedPriorMWdm;
  omega_m: ResolvedPriorOmegaM;
  e_0: ResolvedPriorE_0;
  log10_l_x: ResolvedPriorLog10LX;
  log10_t_vir: ResolvedPriorLog10TVir;
  zeta: ResolvedPriorZeta;
}
/**
 * Warm dark matter particle mass m_WDM in keV: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorMWdm {
  /**
   * Lower end of the prior of m_wdm. It must lie inside [0.3, 10], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of m_wdm. It must lie inside [0.3, 10], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * Matter density Ω_m: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorOmegaM {
  /**
   * Lower end of the prior of omega_m. It must lie inside [0.2, 0.4], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of omega_m. It must lie inside [0.2, 0.4], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * X-ray energy threshold E_0 in eV (21cmFAST NU_X_THRESH): the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorE_0 {
  /**
   * Lower end of the prior of e_0. It must lie inside [100, 1500], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of e_0. It must lie inside [100, 1500], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * log₁₀ of the X-ray luminosity per star formation rate L_X in erg s⁻¹ M_⊙⁻¹ yr: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorLog10LX {
  /**
   * Lower end of the prior of log10_l_x. It must lie inside [38, 42], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of log10_l_x. It must lie inside [38, 42], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * log₁₀ of the minimum virial temperature of star-forming haloes T_vir in K: the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorLog10TVir {
  /**
   * Lower end of the prior of log10_t_vir. It must lie inside [4, 5.3], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of log10_t_vir. It must lie inside [4, 5.3], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * Ionising efficiency ζ (21cmFAST HII_EFF_FACTOR): the uniform prior range the simulator draws from. Defaults are the dataset's bounds (paper Table 1), which are also the min-max normalisation bounds of the labels.
 */
export interface ResolvedPriorZeta {
  /**
   * Lower end of the prior of zeta. It must lie inside [10, 250], the dataset bounds, and below max.
   */
  min: number;
  /**
   * Upper end of the prior of zeta. It must lie inside [10, 250], the dataset bounds, and above min.
   */
  max: number;
}
/**
 * Lightcone files, used when `data.source` = `files`.
 */
export interface ResolvedDataFiles {
  /**
   * File format: `npz` (the paper's dataset: a folder of .npz files with `image` [x, y, t] and `label`), `hdf5` (21cmFAST LightCone files, v3 or v4), `npy` (NumPy arrays with a JSON of parameters).
   */
  format: 'npz' | 'hdf5' | 'npy';
  /**
   * Folder (or single file) holding the lightcones, relative to this config file or absolute. While editing a missing path is a warning; starting a run needs it.
   */
  path: string;
  /**
   * Order of the six parameters in the last six entries of each file's label. Default: the order the reference code and skatr use, [m_WDM, Ω_m, E_0, log10 L_X, log10 T_vir, ζ]; the reference README lists log10 L_X before E_0.
   *
   * @minItems 6
   * @maxItems 6
   *
   * Items: A parameter name.
   */
  label_order: [
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta',
    'm_wdm' | 'omega_m' | 'e_0' | 'log10_l_x' | 'log10_t_vir' | 'zeta'
  ];
  /**
   * Expected transverse size of the slices in cells (the paper's data: 140 × 140). Used to check `patch_size` while editing; the loader checks it against the files.
   */
  transverse_cells: number;
  labels: ResolvedDataLabels;
}
/**
 * Labels given explicitly for 21cmFAST HDF5 files (format = hdf5). A file's attributes give a parameter only where the file's source model gives it the paper's meaning (docs/paper-mapping.md#labels); any other parameter must be given here, or the file is refused. An explicit value replaces the file's own, and each parameter may come from file or fixed, not both.
 */
export interface ResolvedDataLabels {
  /**
   * JSON file, relative to this config file or absolute, that maps every lightcone file name in files.path to the parameters it gives explicitly, by their config names: {"cone_0001.h5": {"m_wdm": 3.2, "zeta": 41.5}, "cone_0002.h5": {}, …}. Every file needs an entry; {} keeps all of the file's own values. pandas writes one with DataFrame.to_json(orient="index"). null: no labels file.
   */
  file: string | null;
  fixed: ResolvedFixedLabels;
}
/**
 * Values shared by every lightcone, per parameter: for a parameter the dataset does not vary, or that its model lacks (21cmFAST 4 files are cold dark matter, so m_wdm is fixed here, e.g. at the prior's upper end).
 */
export interface ResolvedFixedLabels {
  /**
   * Warm dark matter particle mass m_WDM in keV, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [0.3, 10], the dataset bounds of the paper's Table 1.
   */
  m_wdm: number | null;
  /**
   * Matter density Ω_m, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [0.2, 0.4], the dataset bounds of the paper's Table 1.
   */
  omega_m: number | null;
  /**
   * X-ray energy threshold E_0 in eV, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [100, 1500], the dataset bounds of the paper's Table 1.
   */
  e_0: number | null;
  /**
   * log10 of the X-ray luminosity per star formation rate L_X in erg s⁻¹ M_⊙⁻¹ yr, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [38, 42], the dataset bounds of the paper's Table 1.
   */
  log10_l_x: number | null;
  /**
   * log10 of the minimum virial temperature T_vir of star-forming halos in K, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [4.0, 5.3], the dataset bounds of the paper's Table 1.
   */
  log10_t_vir: number | null;
  /**
   * Ionising efficiency ζ, the same for every lightcone; null takes it from each file (or the labels file). Must lie inside [10, 250], the dataset bounds of the paper's Table 1.
   */
  zeta: number | null;
}
/**
 * Split of the lightcones into training, validation and test sets, by lightcone, fixed by `seed` and independent of directory order.
 */
export interface ResolvedSplits {
  /**
   * Fraction of the lightcones used for validation.
   */
  validation_fraction: number;
  /**
   * Fraction of the lightcones held out for the final test evaluation.
   */
  test_fraction: number;
  /**
   * Seed of the split (the reference code uses 42).
   */
  seed: number;
}
/**
 * How lightcones become tokens and targets.
 */
export interface ResolvedPreprocessing {
  /**
   * Regression input tokens: `global_signal` (spatial mean per slice, downsampled to `global_signal_tokens` values; the paper) or `patch_mean` (means over `patch_mean_shape` blocks; the reference code's input).
   */
  tokens: 'global_signal' | 'patch_mean';
  /**
   * Number of global-signal tokens (the paper: 47).
   */
  global_signal_tokens: number;
  /**
   * Block shape [t, x, y] of the `patch_mean` tokens, time first (reference example [10, 28, 28]).
   *
   * @minItems 3
   * @maxItems 3
   *
   * Items: Block length along one axis, in cells.
   */
  patch_mean_shape: [number, number, number];
  /**
   * Brightness-temperature transform before standardisation: `sgn_log1p` sgn(x)·ln(1 + |x|) (the reference code; finite at 0), `sgn_log` sgn(x)·ln|x| (paper Eq. 38; zero cells map to 0), `none`.
   */
  slice_transform: 'sgn_log1p' | 'sgn_log' | 'none';
  /**
   * Standardise the transformed values with the training set's mean and standard deviation.
   */
  standardize: boolean;
  /**
   * Drop the late, fully ionised all-zero period of each lightcone, keeping `trim_keep_slices` zero slices.
   */
  trim: boolean;
  /**
   * Number of all-zero slices kept after trimming (paper: 100).
   */
  trim_keep_slices: number;
}
/**
 * Training windows of the generation task: `length` consecutive slices, of which the first `context` carry no loss.
 */
export interface ResolvedSublightcone {
  /**
   * Slices per training sublightcone (paper: 12).
   */
  length: number;
  /**
   * Leading context slices of each window that get no loss (paper: 2). Must be below `length`.
   */
  context: number;
  /**
   * Step between window starts in slices; `null` means length − context (consecutive windows overlap by the context, as the reference).
   */
  stride: number | null;
}
/**
 * Random symmetries of the periodic box applied to training windows (generation).
 */
export interface ResolvedAugmentation {
  /**
   * Random rotation by a multiple of 90° in the transverse plane.
   */
  rotations: boolean;
  /**
   * Random mirror (transpose) in the transverse plane.
   */
  reflections: boolean;
  /**
   * Random periodic translation in x and y.
   */
  translations: boolean;
}
/**
 * Optimisation: batch size, length, learning-rate schedule, optimizer, clipping and checkpoints.
 */
export interface ResolvedTraining {
  /**
   * Lightcones (regression) or sublightcones (generation) per optimizer step.
   */
  batch_size: number;
  /**
   * Micro-batches whose gradients are summed before one optimizer step.
   */
  gradient_accumulation_steps: number;
  /**
   * Keep only each decoder block's input (and none of the velocity CNN's activations) in the forward pass and recompute the rest block by block, and the CNN a chunk of patches at a time, in the backward pass. Training memory then grows with one block rather than all of them, for about one more forward pass of compute: what lets the paper's 1353-token windows train within the wasm backend's 4 GiB. The gradients are the same up to float rounding.
   */
  recompute_activations: boolean;
  /**
   * Unit of `epochs`/`steps`, `schedule`, `checkpoint_every` and `evaluation.every`: `epochs` or optimizer `steps`.
   */
  unit: 'epochs' | 'steps';
  /**
   * Training length in epochs when `unit` = `epochs` (reference examples: 3).
   */
  epochs: number;
  /**
   * Training length in optimizer steps when `unit` = `steps`.
   */
  steps: number;
  /**
   * Base learning rate (reference 5e-5).
   */
  lr: number;
  schedule: ResolvedSchedule;
  /**
   * Optimizer: `adamw` (decoupled weight decay; the reference) or `adam` (L2 penalty in the gradient).
   */
  optimizer: 'adamw' | 'adam';
  /**
   * Adam moment decay rates (beta1, beta2).
   *
   * @minItems 2
   * @maxItems 2
   *
   * Items: A decay rate in [0, 1).
   */
  betas: [number, number];
  /**
   * Adam epsilon in the denominator.
   */
  eps: number;
  /**
   * Decoupled (AdamW) weight decay. Regression exempts biases, norm scales and special tokens; generation exempts biases only, as the reference. Default: 0 for regression, 0.001 for generation, as the reference.
   */
  weight_decay: number;
  /**
   * Clip the global gradient norm to this value; 0 disables clipping. Default: 30 for regression, 1 for generation, as the reference examples.
   */
  max_grad_norm: number;
  /**
   * Regression with a frozen or LoRA backbone: per batch, first update the input connector and special tokens, then the head on the detached backbone output (the reference code's two optimizers; docs/paper-mapping.md#regression). false trains everything jointly, as for the reference networks.
   */
  interleaved: boolean;
  lr_ratios: ResolvedLrRatios;
  /**
   * Each training lightcone is repeated this many times per epoch (reference `train_ds_multiplicity`).
   */
  train_ds_multiplicity: number;
  /**
   * Seed of initialisation, batching, augmentation and dropout; with it a run is reproducible.
   */
  seed: number;
  early_stopping: ResolvedEarlyStopping;
  /**
   * Save a checkpoint every this many `unit`s (and at the end); the best one by validation loss is always kept.
   */
  checkpoint_every: number;
  /**
   * Number of recent checkpoints kept besides the best one.
   */
  keep_checkpoints: number;
}
/**
 * Warm-up / stable / decay learning-rate schedule (WSD): linear 0 → 1 over `warmup`, constant, then cosine 1 → 0 over `decay`; lengths in `training.unit`.
 */
export interface ResolvedSchedule {
  /**
   * Length of the linear warm-up.
   */
  warmup: number;
  /**
   * Length of the constant phase; `null` means the rest of training after warm-up and decay.
   */
  stable: number | null;
  /**
   * Length of the final cosine decay to zero.
   */
  decay: number;
}
/**
 * Learning-rate multipliers per parameter group (the base `lr` times the ratio; 0 freezes the group).
 */
export interface ResolvedLrRatios {
  /**
   * Ratio for the lightcone input connector.
   */
  lightcone_connector: number;
  /**
   * Ratio for the parameter and t-index connectors (generation).
   */
  parameter_connectors: number;
  /**
   * Ratio for the trainable special-token embeddings.
   */
  special_tokens: number;
  /**
   * Ratio for the output head.
   */
  head: number;
  /**
   * Ratio for the trained backbone weights (LoRA adapters, full finetuning, norms).
   */
  backbone: number;
}
/**
 * Stop when the validation loss has not improved for `patience` evaluations.
 */
export interface ResolvedEarlyStopping {
  /**
   * Enable early stopping.
   */
  enabled: boolean;
  /**
   * Evaluations without improvement before training stops.
   */
  patience: number;
  /**
   * Smallest decrease of the validation loss that counts as an improvement.
   */
  min_delta: number;
}
/**
 * Validation during training and the final test evaluation.
 */
export interface ResolvedEvaluation {
  /**
   * Validate every this many `training.unit`s (reference: every epoch).
   */
  every: number;
  /**
   * Batch size of validation and test passes.
   */
  batch_size: number;
  /**
   * Regression: samples drawn from the predicted Gaussian per test lightcone for the calibration plots (reference: 50).
   */
  regression_samples: number;
  /**
   * Regression: bins of the true value per parameter in the prediction-vs-truth plot (reference: 10).
   */
  regression_bins: number;
  /**
   * Generation: validation windows at most, the first ones of the validation cones (every stride of `data.sublightcone`). Each is one forward pass, so at the paper's 1353-token windows on a CPU a small number keeps validation to minutes.
   */
  validation_windows: number;
  /**
   * Generation: compute the teacher-forced next-patch MSE per patch position on the test set.
   */
  next_patch_mse: boolean;
  /**
   * Generation: test lightcones used for the next-patch MSE (reference `eval_l2_lcs`).
   */
  next_patch_lightcones: number;
  /**
   * Generation: CFM samples per patch averaged in the next-patch MSE (reference `eval_l2_samples`).
   */
  cfm_samples_per_patch: number;
  /**
   * Generation: number of test lightcones generated autoregressively after training (reference `eval_generation_lcs`).
   */
  generated_lightcones: number;
  /**
   * Generation: true slices given as context before autoregressive generation (paper App. B: 5).
   */
  generation_context_slices: number;
  /**
   * Generation: slices generated per test lightcone (paper App. B: 45).
   */
  generation_slices: number;
}
/**
 * Where training runs.
 */
export interface ResolvedRuntime {
  /**
   * TensorFlow.js backend: `auto` picks the first available of cuda, cpu-native, webgpu, wasm, cpu; the others demand one (the run fails with a clear message when it is missing).
   */
  backend: 'auto' | 'cuda' | 'cpu-native' | 'webgpu' | 'wasm' | 'cpu';
  /**
   * Let backend: "webgpu" run on a software WebGPU adapter (Mesa's llvmpipe through Dawn's OpenGL ES backend) when the machine has no GPU. It executes the same WebGPU kernels on the CPU, several times slower than wasm, so it serves to check the WebGPU path, not to train; auto never picks it.
   */
  allow_software_gpu: boolean;
  /**
   * Data-parallel workers that share each training step on the wasm and cpu backends, one thread each, each computing its share of the batch's rows; 0 uses every core. More than the machine's cores is clamped, with a warning in the run's log. The environment variable L3M_THREADS, when set, overrides it (a sweep running K runs at once on one machine sets it to floor(cores / K) for each). The summed gradients are the same up to float rounding whatever the count, so a run is reproducible for a given count and differs from another count only in the last bits. Backends with their own threads (cpu-native, cuda, webgpu) train on one worker.
   */
  threads: number;
}
