// `l3m resume <run folder>`: continues a cancelled or failed run from its last checkpoint, in this
// process, with the same progress display and Ctrl-C handling as `l3m train`. The continuation is the
// one an uninterrupted run would have produced (same batches, same numbers).
import { resolve } from 'node:path';
import { readRun } from '../runs/run_store';
import { isRunProcessAlive } from '../protocol/run_process';
import { trainInTerminal } from './terminal_run';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m resume <run folder>

Continues a cancelled or failed run from its last checkpoint (runs/<experiment>/<run-id>).

Exit codes: 0 completed, 1 the folder is not a resumable run, 2 usage error, 3 run failed, 4 cancelled.`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const unknown = args.filter((a) => a.startsWith('-'));
  if (unknown.length > 0 || args.length !== 1) {
    console.error(
      `l3m resume: ${unknown.length > 0 ? `unknown option ${unknown.join(', ')}` : `give exactly one run folder, got ${args.length}`}.\n\n${help}`,
    );
    return exitCodes.usage;
  }
  const runDir = resolve(args[0]);
  let status: string;
  try {
    const record = await readRun(runDir);
    status = record.status;
    if (status === 'running' && record.pid !== undefined && record.pid !== process.pid && isRunProcessAlive(record)) {
      console.error(`l3m resume: ${runDir} is running in process ${record.pid}; cancel it first.`);
      return exitCodes.invalid;
    }
  } catch (error) {
    console.error(`l3m resume: ${errorMessage(error)}`);
    return exitCodes.invalid;
  }
  if (status === 'completed') {
    console.error(`l3m resume: ${runDir} is already completed; start a new run with "l3m train <config>".`);
    return exitCodes.invalid;
  }
  return trainInTerminal(runDir);
}
