// The sampling job behind `run/sample` and `l3m sample`: forecasts slices of one test lightcone of a
// trained run whose task generates (generation), with the KV cache, and writes generated and true
// slices into the run's samples/ folder (growing slice by slice, with an index entry), returning the
// index entry. Every check that needs no data runs first: run folder, task, checkpoint, slice counts
// against the model's maximum sequence; the lightcone index and slice range are checked once the test
// split is read.
import type { SampleParams, SampleResult } from '../protocol/messages';
import type { SampleEntry } from '../protocol/run_folder';
import { taskNames } from '../tasks/registry';
import type { TaskDefinition, TaskSampling } from '../tasks/task_definition';
import { loadFinishedRun, openFinishedRun } from './finished_run';

export interface SampleRunHooks {
  log?: (message: string) => void;
  /** After each generated slice; the entry is already in samples/index.json. */
  onSlice?: (done: number, total: number, entry: SampleEntry) => void;
}

/** The task's sampling, or an error naming the run's task and the tasks that sample. */
function samplingOf(definition: TaskDefinition, runDir: string): TaskSampling {
  if (definition.sampling) return definition.sampling;
  const samplers = taskNames((other) => other.sampling !== undefined)
    .map((name) => `"${name}"`)
    .join(', ');
  throw new Error(
    `Run ${runDir} is a ${definition.name} run; sampling needs a run of a task that generates lightcones (${samplers}).`,
  );
}

export async function sampleRun(
  params: SampleParams,
  signal: AbortSignal,
  hooks: SampleRunHooks = {},
): Promise<SampleResult> {
  const { lightcone, contextSlices, slices } = params;
  const firstSlice = params.firstSlice ?? 0;
  for (const [name, value, min] of [
    ['lightcone', lightcone, 0],
    ['contextSlices', contextSlices, 0],
    ['slices', slices, 1],
    ['firstSlice', firstSlice, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      throw new Error(`Sampling: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}.`);
  }
  const run = await openFinishedRun(params.runDir, 'sample', (definition) => samplingOf(definition, params.runDir));
  const maxSlices = samplingOf(run.definition, params.runDir).maxSlices(run.config, run.metadata);
  if (contextSlices + slices > maxSlices) {
    throw new Error(
      `Sampling: ${contextSlices} context + ${slices} generated slices exceed the model's maximum sequence of ${maxSlices} slices ` +
        `(max_position_embeddings ${run.metadata.config.maxPositionEmbeddings}); ask for at most ${maxSlices} slices in all.`,
    );
  }
  const { model } = await loadFinishedRun(run, { log: hooks.log, signal });
  try {
    if (!model.sample)
      throw new Error(
        `The ${run.definition.name} task declares sampling, but its model has no sample(); register the task with both or neither.`,
      );
    const entry = await model.sample(
      {
        runDir: params.runDir,
        lightcone,
        firstSlice,
        contextSlices,
        slices,
        seed: params.seed ?? 0,
        checkpointStep: run.metadata.step,
      },
      { signal, onSlice: hooks.onSlice, onWarning: hooks.log },
    );
    return { entry };
  } finally {
    model.dispose();
  }
}
