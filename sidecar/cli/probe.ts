// `l3m probe`: which compute backends and devices this machine offers, with versions, in the
// preference order that `runtime.backend: "auto"` follows.
import { probeBackends } from '../runtime/backends';
import { exitCodes } from '../protocol/exit_codes';
import type { BackendProbe } from '../protocol/messages';
import { backendsDirVariable, placeLabel } from '../runtime/optional_modules';

const help = `Usage: l3m probe [--json]

Lists the TensorFlow.js compute backends (cuda, cpu-native, webgpu, wasm, cpu), whether each is
available here, its version or why it is unavailable, and the one "auto" would choose; then, for
the optional packages of cuda, cpu-native and webgpu, where they were looked for and what was there:
first the folder in ${backendsDirVariable} (set by the editor), then the node_modules beside the sidecar.
  --json   print a JSON object { backends, chosen } instead of a table`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help);
    return exitCodes.ok;
  }
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    console.error(`l3m probe: unknown option "${unknown[0]}".\n\n${help}`);
    return exitCodes.usage;
  }
  const backends = await probeBackends();
  const chosen = backends.find((b) => b.available)?.name ?? 'none';
  if (args.includes('--json')) {
    console.log(JSON.stringify({ backends, chosen }, null, 2));
    return exitCodes.ok;
  }
  const rows = backends.map((b) => [
    b.name === chosen ? `${b.name} *` : b.name,
    b.available ? 'yes' : 'no',
    b.device ?? '-',
    b.detail,
  ]);
  const header = ['backend', 'available', 'device', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.slice().map((r) => (i < 3 ? r[i].length : 0))));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(`\n* chosen by runtime.backend "auto": ${chosen}`);
  console.log(`\n${moduleReport(backends).join('\n')}`);
  return exitCodes.ok;
}

/** Where each optional package was looked for, one line per place, in the order of the search. */
function moduleReport(backends: BackendProbe[]): string[] {
  const dir = process.env[backendsDirVariable]?.trim();
  const lines = [
    `Optional packages (${dir ? `${backendsDirVariable}=${dir}` : `${backendsDirVariable} not set`}; places in search order):`,
  ];
  for (const backend of backends) {
    if (!backend.module) continue;
    lines.push(`  ${backend.module.package} (${backend.name})`);
    for (const entry of backend.module.searched) {
      const where = entry.outcome === 'absent' ? entry.detail : `${entry.path}: ${entry.detail}`;
      lines.push(`    ${entry.outcome.padEnd(7)} ${placeLabel(entry.place)}: ${where}`);
    }
  }
  return lines;
}
