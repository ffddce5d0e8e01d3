// `l3m sample <run folder> [--lightcone N] [--context C] [--slices S] [--first-slice F] [--seed K]`:
// forecasts slices of a test lightcone with a trained generation run (KV-cached, patch by patch) and
// writes generated and true slices as .npy into the run's samples/ folder, printing progress per slice.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sampleRun } from '../jobs/sample_job';
import { readRunConfig } from '../runs/run_access';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m sample <run folder> [options]

Generates lightcone slices with a trained generation run and writes them into <run>/samples/
(<name>.generated.npy and <name>.truth.npy, float32 [slices, x, y] in mK, listed in samples/index.json).

Options:
  --lightcone N    index of the test lightcone (default 0)
  --context C      true slices given as context (default: the config's evaluation.generation_context_slices)
  --slices S       slices to generate (default: the config's evaluation.generation_slices)
  --first-slice F  first context slice in the lightcone (default 0)
  --seed K         noise seed (default 0)
  -h, --help       show this help

Ctrl-C cancels. Exit codes: 0 done, 1 the run cannot sample (not a generation run, no checkpoint, too many slices), 2 usage error, 4 cancelled.`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        lightcone: { type: 'string' },
        context: { type: 'string' },
        slices: { type: 'string' },
        'first-slice': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`l3m sample: ${errorMessage(error)}\n\n${help}`);
    return exitCodes.usage;
  }
  if (parsed.values.help) {
    console.log(help);
    return exitCodes.ok;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`l3m sample: give exactly one run folder, got ${parsed.positionals.length}.\n\n${help}`);
    return exitCodes.usage;
  }
  const integer = (name: string, text: string | undefined): number | undefined | null => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) {
      console.error(`l3m sample: --${name} must be a whole number ≥ 0, got "${text}".`);
      return null;
    }
    return value;
  };
  const values = {
    lightcone: integer('lightcone', parsed.values.lightcone),
    context: integer('context', parsed.values.context),
    slices: integer('slices', parsed.values.slices),
    firstSlice: integer('first-slice', parsed.values['first-slice']),
    seed: integer('seed', parsed.values.seed),
  };
  if (Object.values(values).includes(null)) return exitCodes.usage;
  const runDir = resolve(parsed.positionals[0]);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const { evaluation } = await readRunConfig(runDir);
    const started = Date.now();
    const result = await sampleRun(
      {
        runDir,
        lightcone: values.lightcone ?? 0,
        contextSlices: values.context ?? evaluation.generation_context_slices,
        slices: values.slices ?? evaluation.generation_slices,
        firstSlice: values.firstSlice ?? 0,
        seed: values.seed ?? 0,
      },
      controller.signal,
      {
        log: (message) => console.error(message),
        onSlice: (done, total) =>
          console.error(`slice ${done}/${total} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
      },
    );
    console.log(`${runDir}/samples/${result.entry.generated}`);
    return exitCodes.ok;
  } catch (error) {
    const message = errorMessage(error);
    console.error(`l3m sample: ${message}`);
    return controller.signal.aborted ? exitCodes.cancelled : exitCodes.invalid;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
