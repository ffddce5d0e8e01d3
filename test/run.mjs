// Runs the test suites with node's own runner (STYLE.md rule 16). Usage:
//   node test/run.mjs                 build, then every suite
//   node test/run.mjs unit browser    only those suites (unit, integration, browser, e2e)
//   node test/run.mjs --no-build unit skip the build (the unit suite does not need it)
// Node 20's runner takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const allSuites = ['unit', 'integration', 'browser', 'e2e'];
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const named = args.filter((a) => !a.startsWith('--'));
const suites = named.length > 0 ? named : allSuites;
for (const suite of suites) {
  if (!allSuites.includes(suite)) {
    console.error(`Unknown test suite "${suite}". Choose from: ${allSuites.join(', ')}.`);
    process.exit(2);
  }
}

function testFiles(dir) {
  let found = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return found; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found = found.concat(testFiles(path));
    else if (/\.test\.(ts|mts|mjs)$/.test(name)) found.push(path);
  }
  return found;
}

if (!noBuild && suites.some((s) => s !== 'unit')) {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const files = suites.flatMap((suite) => testFiles(join('test', suite)));
if (files.length === 0) {
  console.error(`No test files found in ${suites.map((s) => `test/${s}`).join(', ')}.`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, L3M_TEST: '1' } },
);
process.exit(result.status ?? 1);
