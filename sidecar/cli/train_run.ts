// `l3m train-run <run folder>` (not listed in the help: executors start it): trains a prepared run
// (queued) or continues an unfinished one (cancelled, failed, or running in a process that is gone)
// from its last checkpoint, with the terminal display and signal handling of `l3m train`. Each run of a
// sweep is one such process, locally and in a Slurm job script, which `exec`s it so that the
// scheduler's SIGTERM reaches it: the run stops after the current step, writes a checkpoint and ends
// cancelled, resumable.
import { resolve } from 'node:path';
import { readRun } from '../runs/run_store';
import { isRunProcessAlive } from '../protocol/run_process';
import { trainInTerminal } from './terminal_run';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m train-run <run folder>

Trains the run in a run folder that a sweep prepared (queued), or continues it from its last
checkpoint (cancelled, failed, or running in a process that is gone). The sweep executors start it;
L3M_THREADS in the environment sets its thread count.

Exit codes: 0 completed, 1 the folder is not a run to train, 2 usage error, 3 run failed, 4 cancelled.`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const unknown = args.filter((a) => a.startsWith('-'));
  if (unknown.length > 0 || args.length !== 1) {
    console.error(
      `l3m train-run: ${unknown.length > 0 ? `unknown option ${unknown.join(', ')}` : `give exactly one run folder, got ${args.length}`}.\n\n${help}`,
    );
    return exitCodes.usage;
  }
  const runDir = resolve(args[0]);
  try {
    const record = await readRun(runDir);
    if (record.status === 'completed') {
      console.error(`l3m train-run: ${runDir} is already completed; nothing to train.`);
      return exitCodes.invalid;
    }
    if (record.status === 'running' && record.pid !== process.pid && isRunProcessAlive(record)) {
      console.error(`l3m train-run: ${runDir} is running in process ${record.pid}; cancel it first.`);
      return exitCodes.invalid;
    }
  } catch (error) {
    console.error(`l3m train-run: ${errorMessage(error)}`);
    return exitCodes.invalid;
  }
  return trainInTerminal(runDir);
}
