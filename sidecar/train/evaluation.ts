// The evaluation engine behind `run/evaluate` (sidecar/rpc/training_engine.ts loads it lazily):
// dispatches on the run's task to the evaluation that training runs at its end, re-run on the
// run's best checkpoint, and returns the result file the protocol names.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateGenerationRun, type EvaluateHooks } from './evaluation_generation';
import { evaluateRegressionRun } from './evaluation_regression';

export async function evaluateRun(runDir: string, signal: AbortSignal, hooks: EvaluateHooks = {}): Promise<{ resultFile: string }> {
  const configFile = join(runDir, 'config.json');
  let task: unknown;
  try {
    task = (JSON.parse(await readFile(configFile, 'utf8')) as { task?: unknown }).task;
  } catch (error) {
    throw new Error(`Cannot read ${configFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is ${runDir} a run folder?`);
  }
  switch (task) {
    case 'generation': {
      const { resultFile } = await evaluateGenerationRun(runDir, signal, hooks);
      return { resultFile };
    }
    case 'regression': {
      const { resultFile } = await evaluateRegressionRun(runDir, signal, { log: hooks.log });
      return { resultFile };
    }
    default:
      throw new Error(`Run ${runDir} has task ${JSON.stringify(task)} in config.json; run/evaluate handles "regression" and "generation" runs.`);
  }
}
