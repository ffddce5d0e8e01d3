// The Sample action on a finished generation run: choose a test lightcone, how many true
// context slices and how many slices to generate, then the sidecar forecasts them patch by patch
// (`run/sample`) while a notification shows progress; the slices appear in the run's samples/ folder
// (the inspector panel follows that folder) and can be opened from the final message.
// Progress is read from the run folder itself, the source of truth: the sampler rewrites the
// generated .npy after every slice with the slices still to come as NaN, so counting the finished
// slices needs only the file (the extension imports nothing of the sidecar but its protocol).
// Sampling starts the sidecar, which runs the model and reads what the run's config names, so it is
// refused in an untrusted workspace; the files read here stay inside the run folder (confined_path.ts).
import * as vscode from 'vscode';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord } from '../schemas/json_value';
import { readConfined } from '../sidecar/protocol/confined_path';
import { errorMessage } from '../sidecar/protocol/error_message';
import * as protocol from '../sidecar/protocol/messages';
import { NpyFormatError, parseNpyHeader, type NpyHeader } from '../sidecar/protocol/npy_format';
import { readRunFolder } from '../sidecar/protocol/run_listing';
import { requireTrust } from './run_commands';
import type { SidecarClient } from './sidecar_client';

interface GenerationConfigView {
  source?: unknown;
  count?: number;
  testFraction?: number;
  contextSlices?: number;
  slices?: number;
}

/** The value at `path` in parsed JSON, or undefined where a step is not an object. */
function valueAt(json: unknown, path: string[]): unknown {
  let value = json;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return value;
}

function numberAt(json: unknown, path: string[]): number | undefined {
  const value = valueAt(json, path);
  return typeof value === 'number' ? value : undefined;
}

/** The fields of a run's config.json that suggest the sampling choices; any of them may be missing or ill-typed. */
function generationConfigView(json: unknown): GenerationConfigView {
  return {
    source: valueAt(json, ['data', 'source']),
    count: numberAt(json, ['data', 'simulator', 'count']),
    testFraction: numberAt(json, ['data', 'splits', 'test_fraction']),
    contextSlices: numberAt(json, ['evaluation', 'generation_context_slices']),
    slices: numberAt(json, ['evaluation', 'generation_slices']),
  };
}

/** Slices whose values are all finite in a float32 .npy [slices, x, y] written by the sampler; null if unreadable. */
export function finishedSlices(bytes: Uint8Array, slices: number): number | null {
  let header: NpyHeader;
  try {
    header = parseNpyHeader(bytes, 'the generated slices');
  } catch (error) {
    if (error instanceof NpyFormatError) return null;
    throw error;
  }
  if (header.dtype !== '<f4' || header.fortranOrder) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = header.dataOffset;
  const count = (bytes.length - start) / 4;
  if (slices < 1 || !Number.isInteger(count) || count % slices !== 0) return null;
  const perSlice = count / slices;
  let done = 0;
  while (done < slices && Number.isFinite(view.getFloat32(start + done * perSlice * 4, true))) done++;
  return done;
}

async function pickNumber(
  title: string,
  values: number[],
  suggested: number,
  describe: (n: number) => string,
): Promise<number | undefined> {
  const items = values.map((n) => ({ label: String(n), description: describe(n), picked: n === suggested }));
  items.sort((a, b) => Number(b.picked) - Number(a.picked));
  const choice = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: `${suggested} (${describe(suggested)})`,
  });
  return choice ? Number(choice.label) : undefined;
}

export async function sampleRun(
  client: SidecarClient,
  clicked: unknown,
  openInspector: (runDir: string) => void,
): Promise<void> {
  const runDir = isRecord(clicked) && typeof clicked.runDir === 'string' ? clicked.runDir : undefined;
  if (!runDir) {
    void vscode.window.showInformationMessage('L3M: choose a finished generation run in the Runs view, then Sample.');
    return;
  }
  if (
    !(await requireTrust(
      'sample',
      "sampling starts the sidecar, which runs the model and reads the files the run's config names",
    ))
  )
    return;
  const listing = await readRunFolder(runDir);
  if (listing.kind === 'unreadable') {
    void vscode.window.showErrorMessage(`L3M: cannot sample from ${runDir}: ${listing.reason}`);
    return;
  }
  if (listing.record.task !== 'generation') {
    void vscode.window.showErrorMessage(
      `L3M: ${listing.record.experiment}/${listing.record.id} is a ${listing.record.task} run; only generation runs can sample lightcones.`,
    );
    return;
  }
  let config: GenerationConfigView = {};
  const configFile = await readConfined(runDir, 'config.json');
  try {
    if ('bytes' in configFile) config = generationConfigView(JSON.parse(configFile.bytes.toString('utf8')));
  } catch {
    /* the sidecar reports an unreadable config when asked to sample */
  }
  // The test split's size is known exactly only to the sidecar; for simulated data this is its count.
  const simulated = config.source === 'simulator' ? Math.round((config.count ?? 0) * (config.testFraction ?? 0)) : 0;
  const lightcones = Array.from({ length: simulated > 0 ? simulated : 10 }, (_, i) => i);
  const lightcone = await pickNumber('Sample: test lightcone', lightcones, 0, (i) => `test lightcone ${i}`);
  if (lightcone === undefined) return;
  const contextDefault = config.contextSlices ?? 2;
  const contextSlices = await pickNumber(
    'Sample: true slices given as context',
    [...new Set([contextDefault, 1, 2, 4, 5, 8])].sort((a, b) => a - b),
    contextDefault,
    (n) => `${n} context slice${n === 1 ? '' : 's'}`,
  );
  if (contextSlices === undefined) return;
  const slicesDefault = config.slices ?? 4;
  const slices = await pickNumber(
    'Sample: slices to generate',
    [...new Set([slicesDefault, 1, 2, 4, 8, 16, 45])].sort((a, b) => a - b),
    slicesDefault,
    (n) => `${n} slice${n === 1 ? '' : 's'}, patch by patch`,
  );
  if (slices === undefined) return;

  // The sidecar names the file by the checkpoint step it picks too, so the poll matches the rest of the name.
  const generatedName = new RegExp(
    `^lc${String(lightcone).padStart(3, '0')}-t${String(contextSlices).padStart(4, '0')}-seed0-step\\d+\\.generated\\.npy$`,
  );
  const startedAt = Date.now();
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `L3M: sampling ${slices} slices of test lightcone ${lightcone}`,
        cancellable: true,
      },
      async (progress, token) => {
        let reported = 0;
        const poll = setInterval(() => {
          void newestMatching(join(runDir, 'samples'), generatedName, startedAt)
            .then((name) => (name ? readConfined(runDir, `samples/${name}`) : null))
            .then(
              (read) => {
                if (!read || !('bytes' in read)) return;
                const done = finishedSlices(read.bytes, slices);
                if (done !== null && done > reported) {
                  progress.report({
                    increment: (100 * (done - reported)) / slices,
                    message: `slice ${done}/${slices}`,
                  });
                  reported = done;
                }
              },
              () => undefined,
            );
        }, 1000);
        try {
          // Cancel in the notification cancels the request; the sidecar stops between patches and keeps the slices written so far.
          return await client.request(
            protocol.sample,
            { runDir, lightcone, contextSlices, slices, firstSlice: 0, seed: 0 },
            token,
          );
        } finally {
          clearInterval(poll);
        }
      },
    );
    const open = 'Open in Inspector';
    const choice = await vscode.window.showInformationMessage(
      `L3M: wrote samples/${result.entry.generated} and its true slices.`,
      open,
    );
    if (choice === open) openInspector(runDir);
  } catch (error) {
    const message = errorMessage(error);
    if (/cancelled/i.test(message))
      void vscode.window.showInformationMessage(
        `L3M: sampling cancelled; the slices finished so far are in ${join(runDir, 'samples')}.`,
      );
    else void vscode.window.showErrorMessage(`L3M: sampling failed: ${message}`);
  }
}

/** The newest file of `folder` whose name matches, changed since `since` (ms); null when none is. */
async function newestMatching(folder: string, pattern: RegExp, since: number): Promise<string | null> {
  let best: { name: string; mtime: number } | null = null;
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!pattern.test(name)) continue;
    const mtime = (await stat(join(folder, name)).catch(() => null))?.mtimeMs ?? -Infinity;
    if (mtime >= since - 1000 && (!best || mtime > best.mtime)) best = { name, mtime };
  }
  return best?.name ?? null;
}
