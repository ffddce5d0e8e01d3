// bench/dataset's paper-scale section (`npm run bench -- dataset --paper-scale`): does the store keep up
// at the paper's scale, with memory that does not grow with the dataset?
//
//   npm run bench -- dataset --paper-scale [--cones 50,200] [--batches N] [--steps N] [--keep]
//
// For each cone count, a synthetic dataset of half-paper-size cones (70 × 70 × 1175 float32, 23 MB each,
// written as the paper's .npz: synthetic_npz.ts) goes into a temporary folder beside the dataset cache
// (same disk), with its own cache folder for the store, both removed afterwards unless --keep. Then:
//   - the disk's read speed: the .npz files' pages evicted, the files read once (disk_reads.ts says why
//     and what exactly is measured), and the share of them still cached when the read started;
//   - conversion into the store, its pages evicted again first (store_child.ts, its own process), in MB/s
//     of .npz read, against that disk speed;
//   - generation's statistics pass (sgn_log and mean patch) on the first load and the stored statistics
//     on the second; generation and regression batches per second as training reads them;
//   - that process's peak RSS: the same within noise at every cone count, since reads go through the
//     data.cache_mb chunk cache.
// On the first dataset, a few real training steps of each quickstart config's model at its own batch
// size (step_child.ts), the data pointed at these cones (patch 14, the paper's, so 5 × 5 patches per
// 70² slice): the step rate the data must outrun. Head-room = data batches/s ÷ training steps/s; > 1 for
// both tasks means data is not the bottleneck (the goal). gzip levels 1 and 6 on one cone's chunks show
// why the store uses level 1. Ends with one JSON line.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { datasetCacheRoot } from '../../sidecar/data/dataset_cache';
import { NpzFolderSource } from '../../sidecar/data/npz_source';
import { targetChunkBytes } from '../../sidecar/data/store/store_layout';
import { evictFromPageCache, readSequentially, residentBytes } from './disk_reads';
import { halfPaperShape, writeSyntheticNpz } from './synthetic_npz';

interface StoreFigures {
  cones: number;
  storeFromCache: boolean;
  storeBytes: number;
  conversionSeconds: number;
  statisticsPassSeconds: number;
  statisticsStoredSeconds: number;
  trainWindows: number;
  cacheMb: number;
  generationBatchesPerSecond: number;
  regressionLoadSeconds: number;
  regressionBatchesPerSecond: number;
  peakRssMb: number;
  peakRssMbAfter: { conversion: number; statistics: number; generationBatches: number };
}

interface StepFigures {
  outcome: string;
  steps: number;
  stepsPerSecond: number | null;
  runtime: string | null;
  logs: string[];
}

interface CountFigures {
  cones: number;
  npz_gb: number;
  write_s: number;
  disk_read_mb_s: number;
  resident_before_disk_read_pct: number | null;
  resident_before_conversion_pct: number | null;
  conversion_mb_s: number;
  conversion_vs_disk: number;
  store_gb: number;
  store_over_npz: number;
  statistics_pass_s: number;
  statistics_stored_s: number;
  generation_batches_per_s: number;
  regression_load_s: number;
  regression_batches_per_s: number;
  peak_rss_mb: number;
  /** The peak RSS as it stood after the conversion, the two generation loads and the generation batches. */
  peak_rss_mb_after: { conversion: number; statistics: number; generation_batches: number };
}

const mb = (bytes: number) => bytes / 1e6;
const percent = (part: number | null, whole: number) => (part === null ? null : (100 * part) / whole);

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function positiveIntegers(text: string, name: string): number[] {
  const values = text.split(',').map(Number);
  if (values.length === 0 || !values.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${name} ${text}: expected positive integers separated by commas, e.g. ${name} 50,200.`);
  }
  return values;
}

/**
 * The quickstart config of `task`, trained `steps` steps on the .npz folder of `cones` cones, with no
 * evaluation in between. A regression split smaller than a batch (a quick check's few cones) repeats its
 * cones (train_ds_multiplicity), so the model still trains at the quickstart's batch size.
 */
function benchConfig(
  task: 'generation' | 'regression',
  folder: string,
  steps: number,
  cones: number,
): Record<string, unknown> {
  const path = resolve('examples', `quickstart-${task}.l3m.json`);
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  const { simulator: _simulator, ...data } = config.data;
  const evaluation =
    task === 'generation'
      ? { ...config.evaluation, every: steps, next_patch_mse: false, generated_lightcones: 0 }
      : { ...config.evaluation, every: steps };
  return {
    ...config,
    name: `bench-paper-scale-${task}`,
    data: {
      ...data,
      source: 'files',
      files: { format: 'npz', path: folder, transverse_cells: halfPaperShape.nx },
      patch_size: 14,
    },
    training: {
      ...config.training,
      unit: 'steps',
      steps,
      checkpoint_every: steps,
      schedule: { warmup: 1, stable: null, decay: 1 },
      train_ds_multiplicity:
        task === 'regression'
          ? Math.max(1, Math.ceil(Number(config.training.batch_size) / Math.max(1, Math.floor(cones / 2))))
          : 1,
    },
    evaluation,
  };
}

function runChild<T>(script: string, args: string[], cacheDir: string): T {
  const output = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, L3M_CACHE_DIR: cacheDir },
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(output.trim().split('\n').pop()!) as T;
}

/** gzip at `level` of one cone's voxels cut into store-sized chunks: MB/s of raw bytes and compressed/raw. */
function gzipFigures(voxels: Float32Array, level: number): { mb_s: number; ratio: number } {
  const bytes = Buffer.from(voxels.buffer, voxels.byteOffset, voxels.byteLength);
  let written = 0;
  const start = process.hrtime.bigint();
  for (let offset = 0; offset < bytes.length; offset += targetChunkBytes) {
    written += gzipSync(bytes.subarray(offset, offset + targetChunkBytes), { level }).byteLength;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mb_s: mb(bytes.length) / seconds, ratio: written / bytes.length };
}

export async function paperScale(argv: readonly string[]): Promise<void> {
  const counts = positiveIntegers(option(argv, '--cones') ?? '50,200', '--cones');
  const generationBatches = Number(option(argv, '--batches') ?? 100);
  const steps = Number(option(argv, '--steps') ?? 6);
  const keep = argv.includes('--keep');
  const { nx, ny, nt } = halfPaperShape;
  const coneBytes = nx * ny * nt * 4;

  // Beside the dataset cache, so that the disk read and the conversion are on the disk the stores use.
  const cacheBase = dirname(datasetCacheRoot());
  mkdirSync(cacheBase, { recursive: true });
  const needed = Math.max(...counts) * coneBytes * 2.2;
  const { bavail, bsize } = statfsSync(cacheBase);
  if (bavail * bsize < needed) {
    throw new Error(
      `${cacheBase}: ${((bavail * bsize) / 1e9).toFixed(1)} GB free, but ${Math.max(...counts)} cones and their store need about ` +
        `${(needed / 1e9).toFixed(1)} GB; free some space, point L3M_CACHE_DIR at a larger disk, or use fewer --cones.`,
    );
  }
  const workspace = mkdtempSync(join(cacheBase, 'bench-paper-scale-'));
  console.log(
    `paper scale: ${counts.join(' and ')} cones of ${nx}×${ny}×${nt} float32 (${mb(coneBytes).toFixed(1)} MB each) in ${workspace}` +
      ` on ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0].toFixed(1)}`,
  );

  const results: CountFigures[] = [];
  let generationSteps: StepFigures | null = null;
  let regressionSteps: StepFigures | null = null;
  let gzip: { level1: ReturnType<typeof gzipFigures>; level6: ReturnType<typeof gzipFigures> } | null = null;
  try {
    for (const count of counts) {
      const folder = join(workspace, `npz-${count}`);
      const cacheDir = join(workspace, `cache-${count}`);
      const start = process.hrtime.bigint();
      const npzBytes = writeSyntheticNpz(folder, count, halfPaperShape);
      const writeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      const files = readdirSync(folder)
        .sort()
        .map((name) => join(folder, name));

      if (!gzip) {
        const cone = await new NpzFolderSource(folder).load('lc00000.npz');
        gzip = { level1: gzipFigures(cone.brightness, 1), level6: gzipFigures(cone.brightness, 6) };
      }

      const evicted = evictFromPageCache(files);
      const residentBeforeRead = residentBytes(files);
      const disk = readSequentially(files);
      evictFromPageCache(files);
      const residentBeforeConversion = residentBytes(files);
      if (!evicted) console.log('  (the .npz pages could not be evicted: the disk figure is a page-cache read)');

      const generationConfig = benchConfig('generation', folder, steps, count);
      const regressionConfig = benchConfig('regression', folder, steps * 4, count);
      const store = runChild<StoreFigures>(
        'store_child.ts',
        [
          JSON.stringify({
            generationConfig,
            regressionConfig,
            configDir: workspace,
            generationBatches,
            regressionBatches: generationBatches * 10,
          }),
        ],
        cacheDir,
      );

      if (!generationSteps || !regressionSteps) {
        const runs = join(workspace, 'runs');
        for (const [task, config] of [
          ['generation', generationConfig],
          ['regression', regressionConfig],
        ] as const) {
          const path = join(workspace, `${task}.l3m.json`);
          writeFileSync(path, JSON.stringify(config, null, 2));
          const figures = runChild<StepFigures>('step_child.ts', [path, runs], cacheDir);
          if (figures.outcome !== 'completed' || figures.stepsPerSecond === null) {
            throw new Error(
              `${task} training steps on ${folder} ended ${figures.outcome}:\n${figures.logs.join('\n')}`,
            );
          }
          if (task === 'generation') generationSteps = figures;
          else regressionSteps = figures;
        }
      }

      const diskMbPerSecond = mb(disk.bytes) / disk.seconds;
      const conversionMbPerSecond = mb(npzBytes) / store.conversionSeconds;
      const figures: CountFigures = {
        cones: count,
        npz_gb: npzBytes / 1e9,
        write_s: writeSeconds,
        disk_read_mb_s: diskMbPerSecond,
        resident_before_disk_read_pct: percent(residentBeforeRead, npzBytes),
        resident_before_conversion_pct: percent(residentBeforeConversion, npzBytes),
        conversion_mb_s: conversionMbPerSecond,
        conversion_vs_disk: conversionMbPerSecond / diskMbPerSecond,
        store_gb: store.storeBytes / 1e9,
        store_over_npz: store.storeBytes / npzBytes,
        statistics_pass_s: store.statisticsPassSeconds,
        statistics_stored_s: store.statisticsStoredSeconds,
        generation_batches_per_s: store.generationBatchesPerSecond,
        regression_load_s: store.regressionLoadSeconds,
        regression_batches_per_s: store.regressionBatchesPerSecond,
        peak_rss_mb: store.peakRssMb,
        peak_rss_mb_after: {
          conversion: store.peakRssMbAfter.conversion,
          statistics: store.peakRssMbAfter.statistics,
          generation_batches: store.peakRssMbAfter.generationBatches,
        },
      };
      results.push(figures);
      printCount(figures, store);
      if (!keep) {
        rmSync(folder, { recursive: true, force: true });
        rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!keep) rmSync(workspace, { recursive: true, force: true });
    else console.log(`kept ${workspace}`);
  }

  const generationRate = generationSteps!.stepsPerSecond!;
  const regressionRate = regressionSteps!.stepsPerSecond!;
  const slowestGeneration = Math.min(...results.map((r) => r.generation_batches_per_s));
  const slowestRegression = Math.min(...results.map((r) => r.regression_batches_per_s));
  const headroomGeneration = slowestGeneration / generationRate;
  const headroomRegression = slowestRegression / regressionRate;
  const rss = results.map((r) => r.peak_rss_mb);
  const rssSpread = Math.max(...rss) - Math.min(...rss);
  const batchOf = (task: 'generation' | 'regression') =>
    (benchConfig(task, '', steps, counts[0]).training as { batch_size: number }).batch_size;
  console.log(
    `training steps (quickstart models, batch ${batchOf('generation')} and ${batchOf('regression')}; ${generationSteps!.runtime ?? 'runtime not logged'}): ` +
      `generation ${generationRate.toFixed(2)} steps/s, regression ${regressionRate.toFixed(1)} steps/s`,
  );
  console.log(
    `head-room (slowest data batches/s ÷ steps/s): generation ${headroomGeneration.toFixed(1)}×, regression ${headroomRegression.toFixed(0)}×` +
      ` → data is ${headroomGeneration > 1 && headroomRegression > 1 ? 'not' : 'STILL'} the bottleneck`,
  );
  console.log(
    `peak RSS of the data path: ${results.map((r) => `${r.peak_rss_mb.toFixed(0)} MB at ${r.cones} cones`).join(', ')} (spread ${rssSpread.toFixed(0)} MB)`,
  );
  console.log(
    `gzip of one cone's chunks: level 1 ${gzip!.level1.mb_s.toFixed(0)} MB/s to ${(100 * gzip!.level1.ratio).toFixed(1)} %, ` +
      `level 6 ${gzip!.level6.mb_s.toFixed(0)} MB/s to ${(100 * gzip!.level6.ratio).toFixed(1)} %`,
  );
  console.log(
    JSON.stringify({
      bench: 'dataset',
      section: 'paper_scale',
      cone_shape: [nx, ny, nt],
      load_average: loadavg()[0],
      counts: results,
      generation_steps_per_s: generationRate,
      regression_steps_per_s: regressionRate,
      runtime: generationSteps!.runtime,
      headroom_generation: headroomGeneration,
      headroom_regression: headroomRegression,
      peak_rss_spread_mb: rssSpread,
      gzip_level1: gzip!.level1,
      gzip_level6: gzip!.level6,
    }),
  );
}

function printCount(f: CountFigures, store: StoreFigures): void {
  const resident = (pct: number | null) => (pct === null ? 'fincore missing' : `${pct.toFixed(1)} % cached`);
  console.log(
    `${f.cones} cones: ${f.npz_gb.toFixed(2)} GB of .npz written in ${f.write_s.toFixed(0)} s; disk read ${f.disk_read_mb_s.toFixed(0)} MB/s (${resident(f.resident_before_disk_read_pct)} at the start)`,
  );
  console.log(
    `  conversion ${store.conversionSeconds.toFixed(1)} s: ${f.conversion_mb_s.toFixed(0)} MB/s of .npz read (${(100 * f.conversion_vs_disk).toFixed(0)} % of the disk's speed; ${resident(f.resident_before_conversion_pct)} at the start), ` +
      `store ${f.store_gb.toFixed(2)} GB (${(100 * f.store_over_npz).toFixed(0)} % of the .npz)${store.storeFromCache ? ' — FROM CACHE, not converted' : ''}`,
  );
  console.log(
    `  generation: statistics pass ${f.statistics_pass_s.toFixed(1)} s, stored ${f.statistics_stored_s.toFixed(2)} s; ` +
      `${f.generation_batches_per_s.toFixed(1)} batches/s over ${store.trainWindows} training windows (chunk cache ${store.cacheMb} MB)`,
  );
  console.log(
    `  regression: ${f.cones} global signals loaded in ${f.regression_load_s.toFixed(2)} s; ${f.regression_batches_per_s.toFixed(0)} batches/s`,
  );
  const after = f.peak_rss_mb_after;
  console.log(
    `  peak RSS ${f.peak_rss_mb.toFixed(0)} MB; after conversion ${after.conversion.toFixed(0)}, statistics ${after.statistics.toFixed(0)}, generation batches ${after.generation_batches.toFixed(0)}`,
  );
}
