// The progress of a training run as every reader sees it: each report goes to the job's listener with the
// run's stage (data, training, evaluating, sampling; protocol/run_stage.ts), and run.json's progress field
// follows at most every 2 s, and at once when the stage changes. run.json's copy is for readers without the
// protocol (the Runs view, `l3m runs`, the monitor of a run started in a terminal), best effort. A stage
// outside training keeps the last training step beside it, so no reader shows the 0/0 of its step counts.
import type { ProgressParams } from '../protocol/messages';
import type { RunRecord } from '../protocol/run_folder';
import { StageClock, type RunStageName } from '../protocol/run_stage';
import { updateRun } from '../runs/run_store';

export type RunProgress = NonNullable<RunRecord['progress']>;

/** How often run.json's progress is rewritten while the stage stays the same. */
export const runJsonProgressIntervalMs = 2000;

export interface ProgressReporter {
  /** A training step's progress (no `phase`), or a stage outside training (`phase` its text, `stage` its name). */
  report(p: Omit<ProgressParams, 'runDir'>, stage?: RunStageName): void;
  /** The last training progress reported (run.json's copy lags by up to 2 s). */
  last(): { step: number; totalSteps: number; epoch: number } | undefined;
  /** Resolves when every run.json write started so far has ended. */
  settled(): Promise<void>;
}

export function progressReporter(
  runDir: string,
  forward: (p: ProgressParams) => void,
  now: () => number = Date.now,
): ProgressReporter {
  let last: { step: number; totalSteps: number; epoch: number } | undefined;
  let lastRunJsonWrite = -Infinity;
  let lastStage: RunStageName | null = null;
  const clock = new StageClock(now);
  // Writes are chained so that a late progress write can never overwrite the final status.
  let runJsonWrites: Promise<void> = Promise.resolve();
  return {
    report(p, stageName = 'training') {
      const training = p.phase === undefined;
      if (training) last = { step: p.step, totalSteps: p.totalSteps, epoch: p.epoch };
      const stage = training
        ? { ...clock.stage('training', `training ${p.step}/${p.totalSteps}`), etaSeconds: p.etaSeconds }
        : clock.stage(stageName, p.phase ?? stageName);
      const counts = last ?? { step: 0, totalSteps: 0, epoch: 0 };
      forward({ runDir, ...p, ...counts, stage });
      const time = now();
      if (time - lastRunJsonWrite < runJsonProgressIntervalMs && stage.name === lastStage) return;
      lastRunJsonWrite = time;
      lastStage = stage.name;
      const progress: RunProgress = {
        ...counts,
        stage,
        ...(training ? { stepsPerSecond: p.stepsPerSecond, etaSeconds: p.etaSeconds } : {}),
      };
      runJsonWrites = runJsonWrites
        .then(() => updateRun(runDir, { progress }))
        .then(
          () => undefined,
          () => undefined,
        );
    },
    last: () => last,
    settled: () => runJsonWrites,
  };
}
