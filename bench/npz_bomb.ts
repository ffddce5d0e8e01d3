// Peak memory of opening a decompression bomb: an .npz whose image member has a [3, 2, 5] float32 .npy
// header (248 bytes) followed by 1 GiB of zeros, deflated to about 1 MB. The bomb is written once by
// streaming (never whole in memory); a fresh child process then lists and loads the folder as training
// would, and reports its peak resident memory and what happened. Usage: npm run bench -- npz_bomb [MiB].
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { labelFromParams, NpzFolderSource } from '../sidecar/data/npz_source';
import { writeNpy } from '../sidecar/data/npy';
import { fiducialParams } from '../sidecar/data/parameters';

async function writeBomb(file: string, mebibytes: number): Promise<void> {
  const out = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  const zip = new Zip((error, chunk, final) => {
    if (error) throw error;
    out.write(chunk);
    if (final) out.end();
  });
  const label = new ZipPassThrough('label.npy');
  zip.add(label);
  label.push(writeNpy(labelFromParams(fiducialParams), [6]), true);
  const image = new ZipDeflate('image.npy', { level: 6 });
  zip.add(image);
  image.push(
    writeNpy(
      Float32Array.from({ length: 30 }, (_, i) => i),
      [3, 2, 5],
    ),
  );
  const zeros = new Uint8Array(1 << 20);
  for (let i = 0; i < mebibytes; i++) image.push(zeros, i === mebibytes - 1);
  zip.end();
  await done;
}

async function openAsTraining(folder: string): Promise<void> {
  const startRss = process.memoryUsage().rss;
  let outcome: string;
  try {
    const source = new NpzFolderSource(folder);
    for (const entry of await source.list()) await source.load(entry.id);
    outcome = 'accepted';
  } catch (error) {
    outcome = `refused: ${(error as Error).message}`;
  }
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ startRss, peakRss, outcome }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--open') return openAsTraining(process.argv[3]);
  const mebibytes = Number(process.argv[2] ?? 1024);
  const folder = join(tmpdir(), `l3m-npz-bomb-${mebibytes}`);
  const file = join(folder, 'bomb.npz');
  if (!existsSync(file)) {
    mkdirSync(folder, { recursive: true });
    await writeBomb(file, mebibytes);
  }
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--open', folder], { encoding: 'utf8' });
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
    startRss: number;
    peakRss: number;
    outcome: string;
  };
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  console.log(`bomb: ${file}, ${mb(statSync(file).size)} MB on disk, inflates to ${mebibytes} MiB + 248 bytes`);
  console.log(`peak RSS ${mb(result.peakRss)} MB (${mb(result.startRss)} MB before reading); ${result.outcome}`);
  console.log(JSON.stringify({ fileBytes: statSync(file).size, inflatedMiB: mebibytes, ...result }));
}

void main();
