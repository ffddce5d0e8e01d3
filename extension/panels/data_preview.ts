// True lightcone slices of a run's dataset, for the inspector of a run that has no samples yet (a
// regression run, or a generation run still training): the issue's "true slices from the data
// before that". The extension may not import the sidecar's data code, so the slices come from the
// sidecar's own `l3m data` command, run as a child process on the run's config:
//   node dist/sidecar.js data <config> --out <runDir>/data-preview --slices N --max-cones 1 --json
// It opens the dataset the run trained on (cached on disk by a hash of what made it, so this reads
// instead of simulating) and writes N evenly spaced slices of the first lightcone as float32 .npy
// files with an index.json. A child process rather than a `data/preview` request to the running
// sidecar: the preview works with no sidecar started, cannot write on the protocol's stdout, and a
// slow or failing dataset open cannot stall the sidecar's training queue. Node only, no `vscode`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { parseRunRecord } from '../../sidecar/protocol/run_folder';
import { parseNpy } from '../../webview/shared/npy';
import type { InspectorDataPreview } from '../../webview/shared/panel_protocol';

export const previewFolder = 'data-preview';

/** What `l3m data` writes as data-preview/index.json (sidecar/cli/data.ts, writePreview). */
interface PreviewIndex {
  lightcone: string | number;
  files: { file: string; slice: number; redshift?: number }[];
}

/**
 * The config to preview: the file the run was started from when it still exists (relative data
 * paths in it resolve against its folder), else the resolved config.json in the run folder.
 */
async function previewConfig(runDir: string): Promise<string> {
  try {
    const parsed = parseRunRecord(await readFile(join(runDir, 'run.json'), 'utf8'));
    if ('record' in parsed && parsed.record.configPath && existsSync(parsed.record.configPath)) return parsed.record.configPath;
  } catch { /* run.json unreadable: the resolved config below */ }
  return join(runDir, 'config.json');
}

/** Runs `l3m data` for the run unless data-preview/index.json exists; null when done, else why not. */
export async function ensureDataPreview(runDir: string, sidecarScript: string, slices = 12): Promise<string | null> {
  const out = join(runDir, previewFolder);
  if (existsSync(join(out, 'index.json'))) return null;
  if (!existsSync(sidecarScript)) return `the sidecar (${sidecarScript}) is missing: build the extension (npm run build)`;
  const config = await previewConfig(runDir);
  return new Promise((resolve) => {
    execFile(process.execPath, [sidecarScript, 'data', config, '--out', out, '--slices', String(slices), '--max-cones', '1', '--json'], { cwd: runDir, timeout: 10 * 60_000, maxBuffer: 1 << 24 }, (error, _stdout, stderr) => {
      if (!error) { resolve(null); return; }
      const detail = stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' ') || error.message;
      resolve(`l3m data could not read the dataset of ${config}: ${detail}`);
    });
  });
}

/** Reads data-preview/ into one [slices, x, y] float32 array for the page (binary), with what could not be read. */
export async function readDataPreview(runDir: string): Promise<InspectorDataPreview> {
  const folder = join(runDir, previewFolder);
  const empty = (problem: string): InspectorDataPreview => ({ type: 'inspector/dataPreview', lightcone: '', slices: [], redshifts: null, shape: [0, 0, 0], data: null, problems: [problem] });
  let index: PreviewIndex;
  try {
    index = JSON.parse(await readFile(join(folder, 'index.json'), 'utf8')) as PreviewIndex;
    if (!index || !Array.isArray(index.files)) return empty(`${previewFolder}/index.json has no "files" array; delete the folder to write it again`);
  } catch (e) {
    return empty(`${previewFolder}/index.json: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
  }
  const problems: string[] = [];
  const planes: { data: Float32Array; slice: number; redshift?: number }[] = [];
  let rows = 0;
  let cols = 0;
  for (const entry of index.files) {
    const path = normalize(join(folder, String(entry.file)));
    if (!path.startsWith(folder + sep)) { problems.push(`${previewFolder}/index.json names "${entry.file}", outside ${previewFolder}/; not read`); continue; }
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      problems.push(`${previewFolder}/${entry.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is missing' : (e as Error).message}`);
      continue;
    }
    const parsed = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, `${previewFolder}/${entry.file}`);
    if ('error' in parsed) { problems.push(parsed.error); continue; }
    const shape = parsed.array.shape;
    if (shape.length !== 2) { problems.push(`${previewFolder}/${entry.file}: shape (${shape.join(', ')}) is not [x, y]`); continue; }
    if (planes.length === 0) [rows, cols] = shape;
    else if (shape[0] !== rows || shape[1] !== cols) { problems.push(`${previewFolder}/${entry.file}: ${shape[0]}×${shape[1]}, unlike the first slice's ${rows}×${cols}; left out`); continue; }
    planes.push({ data: parsed.array.data, slice: entry.slice, redshift: entry.redshift });
  }
  const data = new Float32Array(planes.length * rows * cols);
  planes.forEach((p, i) => data.set(p.data, i * rows * cols));
  const redshifts = planes.every((p) => typeof p.redshift === 'number') && planes.length > 0 ? planes.map((p) => p.redshift as number) : null;
  return {
    type: 'inspector/dataPreview',
    lightcone: String(index.lightcone),
    slices: planes.map((p) => p.slice),
    redshifts,
    shape: [planes.length, rows, cols],
    data: planes.length > 0 ? data.buffer : null,
    problems,
  };
}
