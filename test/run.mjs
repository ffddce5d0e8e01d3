// Runs the test suites with node's own runner (docs/conventions.md#unit-tests). Usage:
//   node test/run.mjs                 build, then every suite
//   node test/run.mjs unit browser    only those suites (unit, integration, browser, e2e)
//   node test/run.mjs --no-build unit skip the build (the unit suite does not need it)
//   node test/run.mjs fast            the unit tests less the slow tier (npm run test:fast), on every core
//   node test/run.mjs slow            only the slow tier of the unit tests
// Node 20's runner takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const allSuites = ['unit', 'integration', 'browser', 'e2e'];

// The unit tests that train a model until it learns, run whole trainings or sweep large inputs (5 to 55 s of
// CPU each), and those that start several processes or convert real stores and HDF5 files (3 to 8 s), where
// the others take about a second: the fast tier leaves them out so that it stays under a minute on two cores.
// `unit` (and so `npm test`) still runs them.
const slowUnitTests = [
  'test/unit/generation_training.test.ts',
  'test/unit/regression_training.test.ts',
  'test/unit/train_run.test.ts',
  'test/unit/resume_integrity.test.ts',
  'test/unit/rpc_progress_and_paths.test.ts',
  'test/unit/data_simulated.test.ts',
  'test/unit/store_memory.test.ts',
  'test/unit/language_server_fuzz.test.ts',
  'test/unit/data_parallel.test.ts',
  'test/unit/ops_conv2d_gradients.test.ts',
  'test/unit/webgpu_parity.test.ts',
  'test/unit/webgpu_training_run.test.ts',
  'test/unit/gpu_out_of_memory_run.test.ts',
  'test/unit/paper_scale_run.test.ts',
  'test/unit/train_cancel_evaluation.test.ts',
  'test/unit/samples_after_training.test.ts',
  'test/unit/data_store.test.ts',
  'test/unit/data_hdf5.test.ts',
  'test/unit/hdf5_labels.test.ts',
  'test/unit/bad_data_files.test.ts',
  'test/unit/input_fifos.test.ts',
  'test/unit/backends.test.ts',
  'test/unit/backend_unavailable_run.test.ts',
  'test/unit/gpu_memory_errors.test.ts',
  'test/unit/train_run_controls.test.ts',
  'test/unit/generation_model.test.ts',
];
const tiers = ['fast', 'slow'];

const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const named = args.filter((a) => !a.startsWith('--'));
const suites = named.length > 0 ? named : allSuites;
for (const suite of suites) {
  if (!allSuites.includes(suite) && !tiers.includes(suite)) {
    console.error(`Unknown test suite "${suite}". Choose from: ${[...allSuites, ...tiers].join(', ')}.`);
    process.exit(2);
  }
}
const missingSlow = slowUnitTests.filter((file) => !existsSync(file));
if (missingSlow.length > 0) {
  console.error(
    `test/run.mjs lists slow unit tests that do not exist: ${missingSlow.join(', ')}. Update slowUnitTests after a rename or removal, or the fast tier would take them in.`,
  );
  process.exit(2);
}

function testFiles(dir) {
  let found = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found = found.concat(testFiles(path));
    else if (/\.test\.(ts|mts|mjs)$/.test(name)) found.push(path);
  }
  return found;
}

function suiteFiles(suite) {
  if (suite === 'fast') return testFiles(join('test', 'unit')).filter((file) => !slowUnitTests.includes(file));
  if (suite === 'slow') return slowUnitTests;
  return testFiles(join('test', suite));
}

if (!noBuild && suites.some((s) => s !== 'unit' && !tiers.includes(s))) {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const files = [...new Set(suites.flatMap(suiteFiles))];
if (files.length === 0) {
  console.error(`No test files found in ${suites.map((s) => `test/${s}`).join(', ')}.`);
  process.exit(1);
}
// The fast tier's files are independent and mostly one process each, so it runs one per core; the
// other suites keep the runner's default, as some share a workbench, ports or a build.
const concurrency = suites.every((s) => s === 'fast') ? [`--test-concurrency=${availableParallelism()}`] : [];
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', ...concurrency, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, L3M_TEST: '1' } },
);
process.exit(result.status ?? 1);
