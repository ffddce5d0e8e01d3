// How to start another `l3m` process of this same build: a sweep runs each of its runs as
// `node <sidecar> train-run <run folder>`, so that a run is one process that a signal (Cancel, Slurm's
// SIGTERM) reaches alone, and a crash takes no other run with it.
import { existsSync } from 'node:fs';

/**
 * The command line prefix that runs this sidecar's entry: Node, the options Node was started with
 * (`--import tsx` when running from the sources), and the entry script (dist/sidecar.js, or
 * sidecar/cli/main.ts from the sources). Only valid in a process started as `l3m` (the CLI or
 * `l3m serve`); others (tests) pass their own.
 */
export function thisSidecarCommand(): string[] {
  const entry = process.argv[1];
  if (!entry || !existsSync(entry))
    throw new Error(
      `Cannot tell which script started this process (argv[1] is ${JSON.stringify(entry)}); pass the sidecar command explicitly.`,
    );
  // A debugger's options would make every run wait for a debugger of its own.
  const nodeOptions = process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
  return [process.execPath, ...nodeOptions, entry];
}
