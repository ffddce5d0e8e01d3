// What a task is to the jobs (sidecar/jobs/): the one interface through which training, evaluating
// and sampling reach regression, generation or a third task. A job owns everything the tasks share
// (run.json, the runtime, the dataset log lines, the loop call, checkpoints, eval/ and metrics.jsonl);
// a task supplies its data, its model with the engine's TrainingTask, the extra state its checkpoints
// carry, and its evaluation. The two steps return objects that hold the task's own types, so a job
// never names them: data → model → (training task, evaluation, samples).
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import type { CheckpointMetadata } from '../checkpoint/checkpoint';
import type { DatasetProgress } from '../data/simulated_dataset';
import type { Qwen2Config } from '../model/qwen2_config';
import type { SampleEntry } from '../protocol/run_folder';
import type { TrainingTask } from '../train/training_task';

export type TaskName = ResolvedExperimentConfig['task'];

export interface DataOptions {
  /** Relative data paths are relative to the config file's folder (the run folder when unknown). */
  configDir: string;
  signal?: AbortSignal;
  /** The dataset's simulation and cache events (a training run logs them). */
  onDataset?: (event: DatasetProgress) => void;
  /** A phase of loading to show as progress ("reading lightcones 3/40"). */
  onPhase?: (phase: string) => void;
}

export interface TaskDefinition {
  readonly name: TaskName;
  /** The file under the run's eval/ folder that the test evaluation writes. */
  readonly evaluationFile: string;
  /** The warning of a training run whose test split is empty (says what is skipped and the fix). */
  readonly emptyTestWarning: string;
  /** Whether training ends with the test evaluation (a config may switch it off). */
  evaluatesAfterTraining(config: ResolvedExperimentConfig): boolean;
  /** Reads the config's lightcones, split and prepared for this task. */
  loadData(config: ResolvedExperimentConfig, options: DataOptions): Promise<TaskData>;
  /**
   * Checks a checkpoint's extra state (CheckpointMetadata.extra) before anything is loaded from it:
   * throws naming `path` when the checkpoint was not written by this task.
   */
  checkCheckpointExtra(extra: Record<string, unknown>, path: string): void;
  /** Present for tasks that generate lightcones (`l3m sample`, `run/sample`). */
  readonly sampling?: TaskSampling;
}

export interface TaskSampling {
  /** The longest sequence, in slices, that a checkpoint's model takes (checked before data are read). */
  maxSlices(config: ResolvedExperimentConfig, metadata: CheckpointMetadata): number;
}

export interface TaskData {
  /** What the "Data: …" log line says. */
  readonly description: string;
  /** Test examples (lightcones); none means no test evaluation. */
  readonly testCount: number;
  /**
   * Takes the data statistics a checkpoint stored (its extra state) in place of the ones just fitted,
   * so that a finished run is evaluated and sampled as it was trained; throws when the data no longer
   * fit the checkpoint.
   */
  restoreFromCheckpoint(extra: Record<string, unknown>): void;
  /** Builds the task's model (random or pretrained backbone, connectors, head) and its training task. */
  buildModel(config: ResolvedExperimentConfig, paths: { configPath: string | undefined; runDir: string }): TaskModel;
}

export interface TaskModel {
  /** What the "Model: …" log line says. */
  readonly description: string;
  /** The backbone architecture, stored in checkpoints. */
  readonly backboneConfig: Qwen2Config;
  /** The task as the training engine sees it: phases, batches, validation, checkpointed weights. */
  readonly training: TrainingTask<unknown>;
  /** What the task's checkpoints store besides weights (read back by checkCheckpointExtra and restoreFromCheckpoint). */
  checkpointExtra(): Record<string, unknown>;
  /** The test evaluation with the current weights. */
  evaluate(options: EvaluateOptions): Promise<TaskEvaluation>;
  /** What training does after its test evaluation (generation: samples of the first test lightcones). */
  finishTraining?(options: FinishOptions): Promise<void>;
  /** Forecasts slices of a test lightcone into the run's samples/ (tasks with `sampling`). */
  sample?(request: SampleRequest, hooks: SampleHooks): Promise<SampleEntry>;
  /** Frees the model's tensors. */
  dispose(): void;
}

export interface EvaluateOptions {
  signal?: AbortSignal;
  /** A phase to show as progress ("next-patch evaluation 3/8 windows"). */
  onPhase?: (phase: string) => void;
  /** Work done of the whole, for a terminal's counter. */
  onProgress?: (done: number, total: number) => void;
}

export interface TaskEvaluation {
  /** The text of eval/<evaluationFile>. */
  json: string;
  /** The figures of the test record in metrics.jsonl. */
  metrics: Record<string, number>;
  /** The log line that sums the evaluation up. */
  summary: string;
}

export interface FinishOptions {
  runDir: string;
  /** Training step of the checkpoint whose weights the model holds now. */
  checkpointStep: number;
  signal: AbortSignal;
  onPhase: (phase: string) => void;
  log: (level: 'info' | 'warn', message: string) => void;
}

export interface SampleRequest {
  runDir: string;
  lightcone: number;
  firstSlice: number;
  contextSlices: number;
  slices: number;
  seed: number;
  /** Training step of the checkpoint whose weights the model holds. */
  checkpointStep: number;
}

export interface SampleHooks {
  signal?: AbortSignal;
  /** After each generated slice; the entry is already in samples/index.json. */
  onSlice?: (done: number, total: number, entry: SampleEntry) => void;
  onWarning?: (message: string) => void;
}
