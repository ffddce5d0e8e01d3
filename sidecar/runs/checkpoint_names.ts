// The names of a run's checkpoints in <runDir>/checkpoints/: `step-<8 digits>` for the periodic and
// final ones, `best` for the lowest validation loss. They are part of the run-folder format, so the
// trainer that writes checkpoints and the jobs that pick one to load read them from here.
import { join } from 'node:path';
import { regularFileNames } from '../runtime/regular_file';

export const bestCheckpointName = 'best';
const stepNamePattern = /^step-(\d{8})\.json$/;

export function stepCheckpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** The folder of a run's checkpoints. */
export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

/** Step numbers of the complete step checkpoints in `dir`, ascending (a folder with a checkpoint's name is none). */
export function listStepCheckpoints(dir: string): number[] {
  const names = regularFileNames(dir);
  return names
    .map((n) => stepNamePattern.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
