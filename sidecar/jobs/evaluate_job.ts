// The evaluation job behind `l3m evaluate` and `run/evaluate`: the test evaluation that training runs
// at its end, re-run on the run's best checkpoint (else its newest), whatever the task, and written to
// eval/<the task's file>; returns that file. Re-running rather than returning the stored file means an
// evaluation setting changed in config.json, or a run cancelled before its evaluation, still gets a
// fresh result.
import { writeEvaluation } from '../runs/run_access';
import { loadFinishedRun, openFinishedRun } from './finished_run';

export interface EvaluateHooks {
  log?: (message: string) => void;
  /** Work done of the whole (generation: windows scored), for a terminal's counter. */
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateRun(
  runDir: string,
  signal: AbortSignal,
  hooks: EvaluateHooks = {},
): Promise<{ resultFile: string }> {
  const run = await openFinishedRun(runDir, 'evaluate');
  const { model } = await loadFinishedRun(run, {
    log: hooks.log,
    signal,
    checkData: (data) => {
      if (data.testCount === 0) {
        throw new Error(
          `Run ${runDir} has an empty test split (data.splits.test_fraction ${run.config.data.splits.test_fraction}); there is nothing to evaluate.`,
        );
      }
    },
  });
  try {
    if (signal.aborted) throw new Error(`Evaluation of ${runDir} was cancelled.`);
    const evaluation = await model.evaluate({ signal, onProgress: hooks.onProgress });
    return { resultFile: await writeEvaluation(runDir, run.definition.evaluationFile, evaluation.json) };
  } finally {
    model.dispose();
  }
}
