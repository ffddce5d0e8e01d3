// Writes a forecast into the run folder (docs/design.md#run-folder): samples/<name>.generated.npy (the
// generated slices) and samples/<name>.truth.npy (the context slices and the true slices that the
// generated ones forecast), float32 [slices, x, y] in brightness temperature (the voxel transform
// undone), and an entry in samples/index.json. The files are rewritten after every generated slice
// and the index entry is added with the first one, so a watcher sees the sample grow as it is made.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNpy } from '../../data/npy';
import { inverseTransformVoxels, type SliceTransformOptions } from '../../data/preprocessing';
import { unpatchify } from '../../data/tokenization';
import type { SampleEntry, SampleIndex } from '../../protocol/run_folder';
import { writeFileAtomic } from '../../runs/atomic_write';
import { errorCode, errorMessage } from '../../protocol/error_message';

export interface SampleFiles {
  dir: string;
  stem: string;
  n: number;
  patchSize: number;
  transform: SliceTransformOptions | undefined;
}

/** Patches (slices, rows·cols, p²) → brightness temperature [slices, n, n]. */
export function patchesToSlices(
  patches: Float32Array,
  slices: number,
  files: Pick<SampleFiles, 'n' | 'patchSize' | 'transform'>,
): Float32Array {
  const voxels = unpatchify(patches, files.n, files.n, slices, files.patchSize);
  return files.transform ? inverseTransformVoxels(voxels, files.transform) : voxels;
}

export async function writeSampleArrays(
  files: SampleFiles,
  kind: 'generated' | 'truth',
  patches: Float32Array,
  slices: number,
): Promise<string> {
  await mkdir(files.dir, { recursive: true });
  const name = `${files.stem}.${kind}.npy`;
  await writeFileAtomic(
    join(files.dir, name),
    writeNpy(patchesToSlices(patches, slices, files), [slices, files.n, files.n]),
  );
  return name;
}

/** Appends (or replaces, by file name) an entry of samples/index.json. */
export async function recordSample(samplesDir: string, entry: SampleEntry): Promise<void> {
  const path = join(samplesDir, 'index.json');
  let index: SampleIndex = { entries: [] };
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as SampleIndex;
    if (Array.isArray(parsed.entries)) index = parsed;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT')
      throw new Error(
        `samples/index.json in ${samplesDir} is unreadable (${errorMessage(error)}); move it away to start a new index.`,
        { cause: error },
      );
  }
  index.entries = index.entries.filter((e) => e.generated !== entry.generated);
  index.entries.push(entry);
  await writeFileAtomic(path, JSON.stringify(index, null, 2) + '\n');
}
