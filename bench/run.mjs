// `npm run bench -- <name> [args]` runs bench/<name>.ts (or bench/<name>/main.ts). Each benchmark
// prints its figures for a person and ends with one line of JSON holding them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync('bench')
  .filter((f) => f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name) {
  console.error(`Usage: npm run bench -- <name>. Available: ${available.join(', ')}`);
  process.exit(2);
}
const candidates = [`bench/${name}.ts`, `bench/${name}/main.ts`];
const entry = candidates.find((p) => existsSync(p));
if (!entry) {
  console.error(`No benchmark "${name}". Available: ${available.join(', ')}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
