// `l3m evaluate <run folder>`: re-runs a trained run's test evaluation on its best checkpoint, as
// `run/evaluate` does in the editor (sidecar/jobs/evaluate_job.ts, for any registered task), and prints
// it as a table: for generation the next-patch scores beside the two baselines (eval/next_patch.json),
// for regression the NLL, R² and coverage per parameter (eval/regression.json).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluateRun } from '../jobs/evaluate_job';
import type { NextPatchEvaluation } from '../tasks/generation/next_patch_evaluation';
import { nextPatchTable, nextPatchVerdict } from '../tasks/generation/next_patch_report';
import { parseRegressionEvaluation, type RegressionEvaluationFile } from '../protocol/run_folder';
import { isRecord } from '../../schemas/json_value';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m evaluate <run folder> [--json]

Re-runs the test evaluation of a trained run on its best checkpoint (else its newest) and prints it.
  generation: next-patch scores on the test split (each patch sampled given the true preceding patches,
              as the paper's Table 4): MSE and CRPS of the samples, MSE of the model's point forecasts,
              beside two baselines (the same patch of the previous slice, the mean training patch).
              Writes <run>/eval/next_patch.json.
  regression: NLL of the test lightcones, and R² and 68%/95% coverage per parameter (Fig. 6).
              Writes <run>/eval/regression.json.

Options:
  --json      print the evaluation as JSON
  -h, --help  show this help

Exit codes: 0 done, 1 the run cannot be evaluated, 2 usage error, 4 cancelled.`;

/** A figure of eval/regression.json, where a non-finite value was written as null. */
function figure(value: number | null, width: number): string {
  return (value === null ? '–' : value.toFixed(3)).padStart(width);
}

/**
 * Why an R² is null: R² compares the residuals with the spread of the test values, which one test
 * lightcone (or a parameter that every test lightcone shares) does not have.
 */
function undefinedR2Note(evaluation: RegressionEvaluationFile): string | null {
  const names = evaluation.parameters.filter((p) => p.r2 === null).map((p) => p.name);
  if (names.length === 0) return null;
  if (evaluation.testLightcones === 1) {
    return '  R² is undefined with one test lightcone (it needs test values that differ); raise data.splits.test_fraction or use more lightcones.';
  }
  return `  R² of ${names.join(', ')} is undefined: every test lightcone has the same value of ${names.length === 1 ? 'it' : 'each'}.`;
}

function regressionTable(evaluation: RegressionEvaluationFile): string {
  const cones = `${evaluation.testLightcones} lightcone${evaluation.testLightcones === 1 ? '' : 's'}`;
  const lines = [
    `Test evaluation on ${cones} (${evaluation.samplesPerLightcone} samples each): NLL ${evaluation.nll === null ? 'not finite' : `${evaluation.nll.toFixed(3)} nats`} (uniform prior: 0)`,
    `  ${'parameter'.padEnd(12)} ${'R²'.padStart(7)} ${'68%'.padStart(7)} ${'95%'.padStart(7)} ${'mean σ'.padStart(8)}`,
  ];
  for (const p of evaluation.parameters) {
    lines.push(
      `  ${p.name.padEnd(12)} ${figure(p.r2, 7)} ${figure(p.coverage68, 7)} ${figure(p.coverage95, 7)} ${figure(p.meanSigma, 8)}`,
    );
  }
  const note = undefinedR2Note(evaluation);
  if (note) lines.push(note);
  lines.push(
    '  Coverage: the fraction of test values inside the central 68% / 95% predictive interval (calibrated: 0.68 / 0.95); σ normalised to the prior range.',
  );
  return lines.join('\n');
}

function generationTable(evaluation: NextPatchEvaluation): string {
  const verdict = nextPatchVerdict(evaluation);
  const crps =
    verdict.crpsBeatsBoth === null
      ? 'CRPS needs ≥ 2 samples per patch (evaluation.cfm_samples_per_patch)'
      : `sample CRPS ${verdict.crpsBeatsBoth ? 'below' : 'not below'} both baselines`;
  return `${nextPatchTable(evaluation)}\n  Model point forecasts ${verdict.pointBeatsBoth ? 'below' : 'not all below'} both baselines in MSE; ${crps}.`;
}

/**
 * The table of the result file evaluateRun has just written: a regression evaluation (through the
 * panels' parser) or a next-patch one, told apart by its kind. The next-patch file comes from the same
 * process a moment before, so its kind and its three summaries that every table row reads are checked,
 * not each number.
 */
function evaluationTable(file: string, text: string): string {
  const parsed: unknown = JSON.parse(text);
  if (isRecord(parsed) && parsed.kind === 'regression') {
    const result = parseRegressionEvaluation(text);
    if ('error' in result) throw new Error(`${file}: ${result.error}. Evaluate the run again.`);
    return regressionTable(result.evaluation);
  }
  if (!isNextPatchEvaluation(parsed)) {
    throw new Error(
      `${file}: not an evaluation result (kind "regression" or "next_patch" with model, baselines and crps); evaluate the run again.`,
    );
  }
  return generationTable(parsed);
}

function isNextPatchEvaluation(value: unknown): value is NextPatchEvaluation {
  return (
    isRecord(value) &&
    value.kind === 'next_patch' &&
    isRecord(value.model) &&
    isRecord(value.baselines) &&
    isRecord(value.crps)
  );
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown || rest.length !== 1) {
    console.error(
      `l3m evaluate: ${unknown ? `unknown option ${unknown}` : `give exactly one run folder, got ${rest.length}`}.\n\n${help}`,
    );
    return exitCodes.usage;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const { resultFile } = await evaluateRun(resolve(rest[0]), controller.signal, {
      log: (message) => console.error(message),
      onProgress: (done, total) => console.error(`windows ${done}/${total}`),
    });
    const text = readFileSync(resultFile, 'utf8');
    if (json) {
      console.log(JSON.stringify(JSON.parse(text)));
    } else {
      console.log(evaluationTable(resultFile, text));
      console.log(resultFile);
    }
    return exitCodes.ok;
  } catch (error) {
    console.error(`l3m evaluate: ${errorMessage(error)}`);
    return controller.signal.aborted ? exitCodes.cancelled : exitCodes.invalid;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
