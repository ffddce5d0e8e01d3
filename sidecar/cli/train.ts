// `l3m train <config.l3m.json> [--runs-dir DIR]`: validates the config as a run would (the editor's
// diagnostics, file:line:col), creates the run folder and trains in this process with a progress bar.
// The runs folder is --runs-dir, else $L3M_RUNS_DIR, else runs/ in the config's workspace: the nearest
// folder above the config holding .git, package.json or .vscode (else the config's own folder), which is
// where the extension's Runs view looks by default (${workspaceFolder}/runs).
import { resolve } from 'node:path';
import { ConfigInvalidError } from '../../schemas/load_config';
import { formatDiagnostic } from '../../schemas/validate_config';
import { prepareRun } from '../jobs/train_job';
import { BackendUnavailableError } from '../runtime/backends';
import { MemoryEstimateExceededError } from '../jobs/memory_check';
import { trainInTerminal } from './terminal_run';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m train <config.l3m.json> [--runs-dir DIR]

Trains an experiment config in this process and prints where the run is.
The run folder is <runs>/<experiment>/<run-id>/ (config.json, run.json, metrics.jsonl, checkpoints/, eval/).

Options:
  --runs-dir DIR  where runs go (default: $L3M_RUNS_DIR, else runs/ in the config's workspace)
  -h, --help      show this help

Ctrl-C cancels after the current step (resume with "l3m resume <run folder>"); a second Ctrl-C quits at once.
Exit codes: 0 completed, 1 config has errors, 2 usage error, 3 run failed, 4 cancelled.`;

import { defaultRunsDir } from '../protocol/workspace_folders';

export { defaultRunsDir, workspaceOf } from '../protocol/workspace_folders';

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  let runsDir: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--runs-dir') {
      runsDir = args[++i];
      if (runsDir === undefined) {
        console.error(`l3m train: --runs-dir needs a folder.\n\n${help}`);
        return exitCodes.usage;
      }
    } else if (arg.startsWith('--runs-dir=')) {
      runsDir = arg.slice('--runs-dir='.length);
    } else if (arg.startsWith('-')) {
      console.error(`l3m train: unknown option ${arg}.\n\n${help}`);
      return exitCodes.usage;
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    console.error(`l3m train: give exactly one config file, got ${positional.length}.\n\n${help}`);
    return exitCodes.usage;
  }
  const configPath = resolve(positional[0]);
  let runDir: string;
  try {
    ({ runDir } = await prepareRun(configPath, resolve(runsDir ?? defaultRunsDir(configPath))));
  } catch (error) {
    if (error instanceof ConfigInvalidError) {
      for (const diagnostic of error.diagnostics) console.error(formatDiagnostic(diagnostic, error.path));
      console.error(`l3m train: ${configPath} has errors; no run was started.`);
      return exitCodes.invalid;
    }
    if (error instanceof BackendUnavailableError) {
      console.error(`l3m train: ${error.message} No run was started.`);
      return exitCodes.runFailed;
    }
    if (error instanceof MemoryEstimateExceededError) {
      console.error(`l3m train: ${error.message}`);
      return exitCodes.runFailed;
    }
    console.error(`l3m train: could not create the run folder: ${errorMessage(error)}`);
    return exitCodes.runFailed;
  }
  return trainInTerminal(runDir);
}
