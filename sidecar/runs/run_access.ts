// How a job reaches a run that exists: its resolved config (config.json, written once when the run
// was created) and the checkpoint to load from it (the best one, else the newest step checkpoint).
// Training, resuming, evaluating and sampling all come through here, so they agree on both; and where
// a test evaluation is written (eval/<file>).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { readRegularFile, readRegularFileSync } from '../runtime/regular_file';
import { writeFileAtomic } from './atomic_write';
import { bestCheckpointName, checkpointsDir, listStepCheckpoints, stepCheckpointName } from './checkpoint_names';
import { errorMessage, errorReason } from '../protocol/error_message';
import { isRecord } from '../../schemas/json_value';

/** The resolved config of the run in `runDir`; throws naming config.json, what is wrong with it and the fix. */
export async function readRunConfig(runDir: string): Promise<ResolvedExperimentConfig> {
  const path = join(runDir, 'config.json');
  let text: string;
  try {
    text = (await readRegularFile(path, 'the resolved config of a run')).toString('utf8');
  } catch (error) {
    // The reader's message names the file and what was found there (missing, a directory, a FIFO).
    throw new Error(
      `Cannot read the run's config: ${errorMessage(error)} Is ${runDir} a run folder? A run folder holds the config.json that l3m train wrote when it created the run.`,
      { cause: error },
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `The run's config ${path} is not valid JSON (${errorMessage(error)}); it was damaged after the run was created. Start a new run from the experiment's config.`,
      { cause: error },
    );
  }
  if (!isRunConfig(config)) {
    throw new Error(
      `The run's config ${path} is not a resolved experiment config (no "task" string in a JSON object); it was damaged after the run was created. Start a new run from the experiment's config.`,
    );
  }
  return config;
}

/**
 * config.json is written by the sidecar itself, from a config that resolveConfig filled in and the
 * validator accepted; so what tells it from a damaged or foreign file is checked (a JSON object with a
 * task), not the whole schema again, which would cost a validation on every read and refuse the runs of
 * an older version whose schema has since gained a field. The fields inside are read where they are used.
 */
function isRunConfig(config: unknown): config is ResolvedExperimentConfig {
  return isRecord(config) && typeof config.task === 'string';
}

export interface ChosenCheckpoint {
  /** The run's checkpoints folder. */
  dir: string;
  /** `best`, or the newest `step-<8 digits>`. */
  name: string;
}

/**
 * The checkpoint a finished (or interrupted) run is used from: `best`, as training's own test
 * evaluation uses it, else the newest step checkpoint. A best.json that is there but cannot be read
 * as JSON is reported, not passed over: silently using an older checkpoint would give results of
 * weights nobody asked for. `use` ("evaluate", "sample") ends the message for a run without any.
 */
export function chooseCheckpoint(runDir: string, status: string, use: string): ChosenCheckpoint {
  const dir = checkpointsDir(runDir);
  const bestPath = join(dir, `${bestCheckpointName}.json`);
  if (existsSync(bestPath)) {
    checkManifestReadable(bestPath, dir);
    return { dir, name: bestCheckpointName };
  }
  const steps = listStepCheckpoints(dir);
  if (steps.length === 0)
    throw new Error(
      `Run ${runDir} has no checkpoint yet (status ${status}); train it (or resume it) until it saves one, then ${use}.`,
    );
  return { dir, name: stepCheckpointName(steps[steps.length - 1]) };
}

/** Throws when a checkpoint's manifest is not a readable JSON object; its full check is the checkpoint loader's. */
function checkManifestReadable(path: string, dir: string): void {
  const steps = listStepCheckpoints(dir);
  const fallback =
    steps.length > 0
      ? `delete it to use the newest step checkpoint (${stepCheckpointName(steps[steps.length - 1])}) instead, or resume the run to write a new best`
      : 'resume the run to write a new one';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFileSync(path, 'the manifest of a checkpoint').toString('utf8'));
  } catch (error) {
    throw new Error(
      `The best checkpoint's manifest ${path} is unreadable (${error instanceof SyntaxError ? `not valid JSON: ${error.message}` : errorReason(error)}); ${fallback}.`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(
      `The best checkpoint's manifest ${path} is ${JSON.stringify(parsed)}, not a JSON object as the trainer writes; ${fallback}.`,
    );
  }
}

/** Writes a test evaluation to <runDir>/eval/<file> (atomically: readers never see half of it); returns its path. */
export async function writeEvaluation(runDir: string, file: string, json: string): Promise<string> {
  await mkdir(join(runDir, 'eval'), { recursive: true });
  const path = join(runDir, 'eval', file);
  await writeFileAtomic(path, json);
  return path;
}
