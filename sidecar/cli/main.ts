// Entry point of the sidecar process and of the `l3m` command. Each subcommand lives in its own
// module under sidecar/cli/ and exports `run(args): Promise<number>` (the exit code).
// Exit codes: 0 success, 1 the command's subject had errors (e.g. invalid config), 2 usage error,
// 3 run failed, 4 run cancelled, 70 internal error.
import { exitCodes } from '../protocol/exit_codes';

interface Command {
  summary: string;
  load: () => Promise<{ run(args: string[]): Promise<number> }>;
  /** Started by other programs (the sweep executors), not by people: left out of the usage text. */
  hidden?: boolean;
}

// Static imports per entry keep esbuild able to bundle every command.
const commands: Record<string, Command> = {
  import: {
    summary: "Convert a config of the paper's PyTorch code into an L3M Studio config",
    load: () => import('./import'),
  },
  validate: {
    summary: 'Check experiment configs (schema + semantic rules), file:line:col diagnostics',
    load: () => import('./validate'),
  },
  runs: { summary: 'List run folders with status and progress', load: () => import('./runs') },
  probe: { summary: 'Show the available compute backends and devices', load: () => import('./probe') },
  serve: { summary: 'Serve the JSON-RPC protocol on stdio (used by the extension)', load: () => import('./serve') },
  train: {
    summary: 'Train an experiment config (progress bar; Ctrl-C cancels, resumable)',
    load: () => import('./train'),
  },
  resume: { summary: 'Resume a cancelled or failed run from its last checkpoint', load: () => import('./resume') },
  data: {
    summary: "Inspect a config's dataset: size, parameter coverage, x_HI history, global signal; writes preview slices",
    load: () => import('./data'),
  },
  sample: {
    summary: 'Generate lightcone slices with a trained generation run (KV-cached); writes .npy into its samples/',
    load: () => import('./sample'),
  },
  evaluate: {
    summary: 'Next-patch MSE of a generation run beside the previous-slice and mean-patch baselines',
    load: () => import('./evaluate'),
  },
  sweep: {
    summary: 'Plan, run, follow, cancel and resume a sweep (*.l3m-sweep.json): repeats and grids of runs',
    load: () => import('./sweep'),
  },
  'train-run': {
    summary: 'Train or continue one prepared run folder (what the sweep executors start)',
    load: () => import('./train_run'),
    hidden: true,
  },
};

function usage(): string {
  const listed = Object.entries(commands).filter(([, c]) => !c.hidden);
  const width = Math.max(...listed.map(([name]) => name.length), 4);
  const lines = listed.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: l3m <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "l3m <command> --help" for its options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? exitCodes.ok : exitCodes.usage;
  }
  const command = commands[name];
  if (!command) {
    console.error(`l3m: unknown command "${name}".\n\n${usage()}`);
    return exitCodes.usage;
  }
  const module = await command.load();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`l3m: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = exitCodes.internal;
  },
);
