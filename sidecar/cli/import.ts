// `l3m import <paper-config.json> [-o out.l3m.json] [--task regression|generation]`: converts a
// config of the paper's PyTorch code into an L3M Studio experiment config (schemas/paper_config_import.ts),
// lists the fields with no counterpart, and validates the result with the editor's diagnostics.
// Without -o the config goes to stdout and everything else to stderr, so it can be redirected.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { isRecord } from '../../schemas/json_value';
import { importPaperConfig } from '../../schemas/paper_config_import';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { formatDiagnostic, hasErrors, validateConfig } from '../../schemas/validate_config';
import { exitCodes } from '../protocol/exit_codes';

const help = `Usage: l3m import <paper-config.json> [-o out.l3m.json] [--task regression|generation] [--force]

Converts a config of the paper's own PyTorch code (heidelberg-hepml/L3M) into an L3M Studio
experiment config and lists the fields that have no counterpart. The task is detected from the
keys; --task overrides it. Without -o the config is printed on stdout.

Options:
  -o, --output FILE  write the config to FILE (refuses to overwrite unless --force)
  --task TASK        regression or generation
  --force            overwrite an existing output file
  -h, --help         show this help`;

interface Options {
  input?: string;
  output?: string;
  task?: 'regression' | 'generation';
  force: boolean;
}

function parseArgs(args: string[]): Options | string {
  const options: Options = { force: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-o' || arg === '--output') {
      if (!args[i + 1]) return `${arg} needs a file name`;
      options.output = args[++i];
    } else if (arg === '--task') {
      const task = args[++i];
      if (task !== 'regression' && task !== 'generation')
        return `--task must be regression or generation, received ${task ?? 'nothing'}`;
      options.task = task;
    } else if (arg === '--force') {
      options.force = true;
    } else if (arg.startsWith('-')) {
      return `unknown option ${arg}`;
    } else if (options.input) {
      return `one input config at a time (received ${options.input} and ${arg})`;
    } else {
      options.input = arg;
    }
  }
  return options.input ? options : 'no input config given';
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const options = parseArgs(args);
  if (typeof options === 'string') {
    console.error(`l3m import: ${options}.\n\n${help}`);
    return exitCodes.usage;
  }
  const { input } = options;
  if (input === undefined) {
    console.error(`l3m import: no input config given.\n\n${help}`);
    return exitCodes.usage;
  }
  let paper: unknown;
  try {
    paper = JSON.parse(readFileSync(input, 'utf8'));
  } catch (caught) {
    console.error(
      `l3m import: cannot read ${input} as JSON: ${caught instanceof Error ? caught.message : String(caught)}. Give the reference code's config file (e.g. config/regression/example.json).`,
    );
    return exitCodes.invalid;
  }
  if (!isRecord(paper)) {
    console.error(
      `l3m import: ${input} holds ${Array.isArray(paper) ? 'an array' : String(paper)}, not a config object. Give the reference code's config file.`,
    );
    return exitCodes.invalid;
  }
  if (options.output && existsSync(options.output) && !options.force) {
    console.error(`l3m import: ${options.output} exists; pass --force to overwrite it or choose another -o.`);
    return exitCodes.usage;
  }

  const fallbackName = basename(input).replace(/\.json$/i, '');
  const { task, config, unmapped } = importPaperConfig(paper, fallbackName, options.task);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const report = options.output ? console.log : console.error;
  if (options.output) writeFileSync(options.output, text);
  else process.stdout.write(text);

  report(`Imported ${input} as a ${task} config${options.output ? ` into ${options.output}` : ''}.`);
  if (unmapped.length > 0) {
    report(`${unmapped.length} field${unmapped.length === 1 ? ' has' : 's have'} no counterpart:`);
    for (const field of unmapped) report(`  ${field.key} = ${JSON.stringify(field.value)}: ${field.reason}`);
  }
  const configPath = resolve(options.output ?? `${config.name}.l3m.json`);
  const diagnostics = await validateConfig(text, { configPath, mode: 'edit', fileSystem: nodeFileSystem });
  for (const diagnostic of diagnostics) report(formatDiagnostic(diagnostic, options.output ?? '<stdout>'));
  return hasErrors(diagnostics) ? exitCodes.invalid : exitCodes.ok;
}
