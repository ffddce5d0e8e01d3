// The next-patch evaluation of a trained generation run on demand (`l3m evaluate`, `run/evaluate`):
// the same evaluation as at the end of training (next_patch_evaluation.ts), on the run's best (or
// newest) checkpoint, written to eval/next_patch.json; returns that file.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../runs/atomic_write';
import { odeOptionsOf } from '../tasks/generation/generation_setup';
import { evaluateNextPatch, type NextPatchEvaluation } from '../tasks/generation/next_patch_evaluation';
import { loadGenerationRun, openGenerationRun } from '../tasks/generation/trained_run';

export interface EvaluateHooks {
  log?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateGenerationRun(runDir: string, signal: AbortSignal, hooks: EvaluateHooks = {}): Promise<{ resultFile: string; evaluation: NextPatchEvaluation }> {
  const header = await openGenerationRun(runDir);
  const loaded = await loadGenerationRun(header, hooks.log, signal);
  try {
    const config = header.config;
    const evaluation = await evaluateNextPatch(loaded.model, loaded.data, {
      lightcones: config.evaluation.next_patch_lightcones, samples: config.evaluation.cfm_samples_per_patch, batchSize: config.evaluation.batch_size,
      ode: odeOptionsOf(config), seed: config.training.seed, signal, onProgress: hooks.onProgress,
    });
    await mkdir(join(runDir, 'eval'), { recursive: true });
    const resultFile = join(runDir, 'eval', 'next_patch.json');
    await writeFileAtomic(resultFile, JSON.stringify(evaluation, null, 1) + '\n');
    return { resultFile, evaluation };
  } finally {
    loaded.model.dispose();
  }
}
