// `l3m evaluate <run folder>`: the next-patch MSE of a trained generation run on its test split, with
// the previous-slice and mean-patch baselines beside it (eval/next_patch.json), printed as a table.
import { resolve } from 'node:path';
import { evaluateGenerationRun } from '../train/evaluation_generation';
import { exitCodes } from './exit_codes';

const help = `Usage: l3m evaluate <run folder> [--json]

Evaluates a trained generation run: next-patch MSE on the test split (each patch sampled given the true
preceding patches, as the paper's Table 4) with its spread, beside two baselines: the same patch of the
previous slice, and the mean training patch. Writes <run>/eval/next_patch.json.

Options:
  --json      print the evaluation as JSON
  -h, --help  show this help

Exit codes: 0 done, 1 the run cannot be evaluated, 2 usage error, 4 cancelled.`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown || rest.length !== 1) {
    console.error(`l3m evaluate: ${unknown ? `unknown option ${unknown}` : `give exactly one run folder, got ${rest.length}`}.\n\n${help}`);
    return exitCodes.usage;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const { resultFile, evaluation } = await evaluateGenerationRun(resolve(rest[0]), controller.signal, {
      log: (message) => console.error(message),
      onProgress: (done, total) => console.error(`windows ${done}/${total}`),
    });
    if (json) {
      console.log(JSON.stringify(evaluation));
    } else {
      const row = (name: string, s: { mse: number; std: number; sem: number }) => `  ${name.padEnd(16)} ${s.mse.toFixed(5).padStart(10)} ${s.std.toFixed(5).padStart(10)} ${s.sem.toFixed(5).padStart(10)}`;
      console.log(`Next-patch MSE on ${evaluation.windows} test windows (${evaluation.lightcones.length} lightcones, ${evaluation.patchesPerWindow} patches each, ${evaluation.solver} × ${evaluation.steps}):`);
      console.log(`  ${''.padEnd(16)} ${'MSE'.padStart(10)} ${'std'.padStart(10)} ${'sem'.padStart(10)}`);
      console.log(row('model samples', evaluation.model));
      console.log(row('model mean', evaluation.conditionalMean));
      console.log(row('previous slice', evaluation.baselines.previousSlice));
      console.log(row('mean patch', evaluation.baselines.meanPatch));
      console.log(resultFile);
    }
    return exitCodes.ok;
  } catch (error) {
    console.error(`l3m evaluate: ${(error as Error).message}`);
    return controller.signal.aborted ? exitCodes.cancelled : exitCodes.invalid;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
