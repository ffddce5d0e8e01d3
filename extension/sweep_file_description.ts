// What the Experiments view says of a sweep file (*.l3m-sweep.json) before anything runs: how many runs
// it expands to and where they run, e.g. "12 runs · 2 setups × 2 grid points × 3 repeats · local". It
// is read tolerantly from half-typed JSON and never validates (Run Sweep plans the sweep and shows its
// problems); the arithmetic is the expansion's: bases × setups × grid points × repeats.
// No vscode import, so this is tested in plain Node.
// The ES module build: esbuild cannot follow the UMD build's factory-style requires (./impl/format).
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { isRecord } from '../schemas/json_value';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The description of a sweep file's text, or what keeps it from having one. */
export function describeSweepFile(text: string): string {
  const sweep: unknown = parseJsonc(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!isRecord(sweep)) return 'sweep · not a JSON object';
  const bases = Array.isArray(sweep.base) ? sweep.base.length : typeof sweep.base === 'string' ? 1 : 0;
  const setups = Array.isArray(sweep.setups) ? sweep.setups.length : 0;
  const grid = isRecord(sweep.grid) ? Object.values(sweep.grid) : [];
  const points = grid.reduce<number>((product, values) => product * (Array.isArray(values) ? values.length : 0), 1);
  const repeats = typeof sweep.repeats === 'number' && Number.isInteger(sweep.repeats) ? sweep.repeats : 1;
  const executor = typeof sweep.executor === 'string' ? sweep.executor : 'local';
  const factors = [
    bases > 1 ? plural(bases, 'base') : undefined,
    setups > 0 ? plural(setups, 'setup') : undefined,
    grid.length > 0 ? plural(points, 'grid point') : undefined,
    plural(repeats, 'repeat'),
  ].filter((f) => f !== undefined);
  if (bases === 0) return `sweep · no base config · ${executor}`;
  const runs = bases * Math.max(1, setups) * points * repeats;
  return `${plural(runs, 'run')} · ${factors.join(' × ')} · ${executor}`;
}
