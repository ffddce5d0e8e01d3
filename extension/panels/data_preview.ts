// True lightcone slices of a run's dataset, for the inspector of a run that has no samples yet (a
// regression run, or a generation run still training), so a user sees the data before any sample
// exists. The extension may not import the sidecar's data code, so the slices come from the
// sidecar's own `l3m data` command, run as a child process on the run's config with the Node the
// extension runs the sidecar with (sidecar_cli.ts: l3m.nodePath, or the host's own as Node):
//   node dist/sidecar.js data <config> --out <runDir>/data-preview --slices N --max-cones 1 --json
// It opens the dataset the run trained on (cached on disk by a hash of what made it, so this reads
// instead of simulating) and writes N evenly spaced slices of the first lightcone as float32 .npy
// files with an index.json. A child process rather than a `data/preview` request to the running
// sidecar: the preview works with no sidecar started, cannot write on the protocol's stdout, and a
// slow or failing dataset open cannot stall the sidecar's training queue. Node only, no `vscode`.
// `l3m data` reads whatever the config names and may simulate for minutes, so the inspector runs it
// only in a trusted workspace; what is already in data-preview/ is read anywhere (inside the run folder).
import { existsSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { isRecord } from '../../schemas/json_value';
import { simulatorSliceSideMpc } from '../../schemas/simulator_presets';
import { confinedPath, readConfined } from '../../sidecar/protocol/confined_path';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { parseRunRecord } from '../../sidecar/protocol/run_folder';
import { parseNpy } from '../../sidecar/protocol/npy_format';
import type { InspectorDataPreview } from '../../webview/shared/panel_protocol';
import { runConfigToOpen } from '../run_config';
import { SidecarCliError, runSidecarCli, type SidecarCommand } from '../sidecar_cli';

export const previewFolder = 'data-preview';

/** What `l3m data` writes as data-preview/index.json (sidecar/cli/data.ts, writePreview). */
interface PreviewIndex {
  lightcone: string | number;
  files: PreviewFile[];
}

interface PreviewFile {
  file: string;
  slice: number;
  redshift?: number;
}

function isPreviewFile(value: unknown): value is PreviewFile {
  return (
    isRecord(value) &&
    typeof value.file === 'string' &&
    typeof value.slice === 'number' &&
    (value.redshift === undefined || typeof value.redshift === 'number')
  );
}

/** index.json as PreviewIndex, or what is wrong with it. */
function parsePreviewIndex(json: unknown): PreviewIndex | { problem: string } {
  const fix = 'delete the folder to write it again';
  if (!isRecord(json) || !Array.isArray(json.files))
    return { problem: `${previewFolder}/index.json has no "files" array; ${fix}` };
  const bad = json.files.findIndex((entry) => !isPreviewFile(entry));
  if (bad >= 0)
    return {
      problem: `${previewFolder}/index.json: files[${bad}] is ${JSON.stringify(json.files[bad])}, not { "file": name, "slice": number, "redshift"?: number }; ${fix}`,
    };
  const lightcone = typeof json.lightcone === 'number' ? json.lightcone : String(json.lightcone);
  return { lightcone, files: json.files.filter(isPreviewFile) };
}

/**
 * The config to preview: the file the run was started from when it may be used (inside the run
 * folder or a workspace folder; relative data paths in it resolve against its folder), else the
 * resolved config.json in the run folder (run_config.ts).
 */
export async function previewConfig(
  runDir: string,
  workspaceFolders: readonly string[],
): Promise<{ path: string } | { problem: string }> {
  const record = await readConfined(runDir, 'run.json');
  const parsed = 'bytes' in record ? parseRunRecord(record.bytes.toString('utf8')) : undefined;
  const source = parsed && 'record' in parsed ? parsed.record.configPath : undefined;
  const chosen = await runConfigToOpen(runDir, source, workspaceFolders, true);
  return 'problem' in chosen ? chosen : { path: chosen.path };
}

/** Whether data-preview/index.json is there (inside the run folder), so reading needs no `l3m data`. */
export async function hasDataPreview(runDir: string): Promise<boolean> {
  return (await confinedPath(runDir, `${previewFolder}/index.json`)).kind === 'inside';
}

/**
 * Runs `l3m data` for the run unless data-preview/index.json exists; null when done, else why not.
 * `workspaceFolders`: where the run's source config may lie (previewConfig). Aborting `signal` (the
 * panel closed) stops the command.
 */
export async function ensureDataPreview(
  runDir: string,
  sidecar: SidecarCommand,
  workspaceFolders: readonly string[],
  slices = 12,
  signal?: AbortSignal,
): Promise<string | null> {
  const out = join(runDir, previewFolder);
  // data-preview/ linked elsewhere would make `l3m data` write outside the run folder.
  const folder = await confinedPath(runDir, previewFolder);
  if (folder.kind === 'outside' || folder.kind === 'error') return folder.problem;
  if (existsSync(join(out, 'index.json'))) return null;
  if (!existsSync(sidecar.sidecarScript))
    return `the sidecar (${sidecar.sidecarScript}) is missing: build the extension (npm run build)`;
  const config = await previewConfig(runDir, workspaceFolders);
  if ('problem' in config) return `no data preview: ${config.problem}`;
  try {
    await runSidecarCli(
      sidecar,
      ['data', config.path, '--out', out, '--slices', String(slices), '--max-cones', '1', '--json'],
      { cwd: runDir, timeoutMs: 10 * 60_000, signal },
    );
    return null;
  } catch (error) {
    if (!(error instanceof SidecarCliError)) throw error;
    // A Node that cannot start is the setting's fault, not the dataset's: its message names the fix.
    return error.reason === 'start'
      ? error.message
      : `l3m data could not read the dataset of ${config.path}: ${error.message}`;
  }
}

/** Reads data-preview/ into one [slices, x, y] float32 array for the page (binary), with what could not be read. */
export async function readDataPreview(runDir: string): Promise<InspectorDataPreview> {
  const folder = join(runDir, previewFolder);
  const empty = (problem: string): InspectorDataPreview => ({
    type: 'inspector/dataPreview',
    lightcone: '',
    slices: [],
    redshifts: null,
    shape: [0, 0, 0],
    data: null,
    problems: [problem],
  });
  let json: unknown;
  const indexFile = await readConfined(runDir, `${previewFolder}/index.json`);
  if (!('bytes' in indexFile)) return empty(indexFile.problem);
  try {
    json = JSON.parse(indexFile.bytes.toString('utf8'));
  } catch (e) {
    return empty(`${previewFolder}/index.json: ${errorMessage(e)}`);
  }
  const index = parsePreviewIndex(json);
  if ('problem' in index) return empty(index.problem);
  const problems: string[] = [];
  const planes: { data: Float32Array; slice: number; redshift?: number }[] = [];
  let rows = 0;
  let cols = 0;
  for (const entry of index.files) {
    const path = normalize(join(folder, String(entry.file)));
    if (!path.startsWith(folder + sep)) {
      problems.push(`${previewFolder}/index.json names "${entry.file}", outside ${previewFolder}/; not read`);
      continue;
    }
    const read = await readConfined(runDir, `${previewFolder}/${String(entry.file)}`);
    if (!('bytes' in read)) {
      problems.push(read.missing ? `${previewFolder}/${entry.file}: the file is missing` : read.problem);
      continue;
    }
    const bytes = read.bytes;
    const parsed = parseNpy(bytes, `${previewFolder}/${entry.file}`);
    if ('error' in parsed) {
      problems.push(parsed.error);
      continue;
    }
    const shape = parsed.array.shape;
    if (shape.length !== 2) {
      problems.push(`${previewFolder}/${entry.file}: shape (${shape.join(', ')}) is not [x, y]`);
      continue;
    }
    if (planes.length === 0) [rows, cols] = shape;
    else if (shape[0] !== rows || shape[1] !== cols) {
      problems.push(
        `${previewFolder}/${entry.file}: ${shape[0]}×${shape[1]}, unlike the first slice's ${rows}×${cols}; left out`,
      );
      continue;
    }
    planes.push({ data: parsed.array.data, slice: entry.slice, redshift: entry.redshift });
  }
  const data = new Float32Array(planes.length * rows * cols);
  planes.forEach((p, i) => data.set(p.data, i * rows * cols));
  const boxMpc = await sliceSideOfRun(runDir, cols);
  const known = planes.map((p) => p.redshift);
  const redshifts = known.every((z): z is number => typeof z === 'number') && planes.length > 0 ? known : null;
  return {
    type: 'inspector/dataPreview',
    lightcone: String(index.lightcone),
    slices: planes.map((p) => p.slice),
    redshifts,
    shape: [planes.length, rows, cols],
    ...(boxMpc === undefined ? {} : { boxMpc }),
    data: planes.length > 0 ? data.buffer : null,
    problems,
  };
}

/** The comoving side of the run's slices [Mpc] from its config.json (resolved): known for the built-in simulator only. */
async function sliceSideOfRun(runDir: string, cells: number): Promise<number | undefined> {
  const read = await readConfined(runDir, 'config.json');
  if (!('bytes' in read)) return undefined;
  try {
    const config: unknown = JSON.parse(read.bytes.toString('utf8'));
    const data = isRecord(config) ? config.data : undefined;
    if (!isRecord(data) || data.source !== 'simulator' || !isRecord(data.simulator)) return undefined;
    const preset = data.simulator.preset;
    return typeof preset === 'string' ? simulatorSliceSideMpc(preset, cells) : undefined;
  } catch {
    // An unreadable config is reported where the preview is made; here it only leaves the axes in cells.
    return undefined;
  }
}
