// `l3m data <cfg>`: the data inspector. Opens the config's dataset (simulating and caching it on
// first use), then prints its size and split, the parameter coverage against the priors, the mean
// neutral-fraction history and the mean global signal as sparklines, and writes a few slices as
// .npy files (float32 [x, y] per slice, plus index.json) for the lightcone panels.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadConfigFile } from '../../schemas/load_config';
import { formatDiagnostic, hasErrors } from '../../schemas/validate_config';
import { filesSource, openDataset } from '../data/dataset';
import { labelProvenance } from '../data/label_provenance';
import { DataError, sliceMeans, type LightconeEntry, type LightconeRecord } from '../data/lightcone_record';
import type { ResolvedData } from '../../schemas/generated/experiment_config';
import { writeNpy } from '../data/npy';
import { parameterInfo, parameterNames } from '../data/parameters';
import type { DatasetProgress } from '../data/simulated_dataset';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';

const help = `Usage: l3m data <config.l3m.json> [--out DIR] [--slices N] [--max-cones N] [--rebuild] [--json]

Inspects the dataset of an experiment config: size and split, parameter coverage against the
priors, mean neutral-fraction history and global signal; writes N slices of the first lightcone as
.npy (default into runs/<experiment>/data-preview/). The built-in simulator's dataset is generated
and cached on first use.
  --out DIR        folder for the preview .npy files
  --slices N       number of preview slices (default 4)
  --max-cones N    lightcones read for the statistics (default 200; parameters use all)
  --rebuild        convert the dataset into a new store even if one is cached (after a damaged
                   chunk was reported); the old store is replaced once the new one is complete
  --json           print the summary as JSON`;

interface Options {
  config?: string;
  out?: string;
  slices: number;
  maxCones: number;
  json: boolean;
  rebuild: boolean;
}

function parseArgs(args: string[]): Options | string {
  const options: Options = { slices: 4, maxCones: 200, json: false, rebuild: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const integer = () => {
      const v = args[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1)
        throw new Error(`${arg} needs a positive integer, got "${v ?? ''}"`);
      return Number(v);
    };
    try {
      if (arg === '--json') options.json = true;
      else if (arg === '--rebuild') options.rebuild = true;
      else if (arg === '--out') {
        const v = args[++i];
        if (v === undefined || v.startsWith('--')) return '--out needs a folder';
        options.out = v;
      } else if (arg === '--slices') options.slices = integer();
      else if (arg === '--max-cones') options.maxCones = integer();
      else if (arg.startsWith('--')) return `unknown option "${arg}"`;
      else if (options.config) return `unexpected argument "${arg}" (one config file only)`;
      else options.config = arg;
    } catch (error) {
      return errorMessage(error);
    }
  }
  return options.config ? options : 'missing the config file';
}

const bars = '▁▂▃▄▅▆▇█';

/** A one-line sparkline of `values` resampled to `width` columns by bin means. */
export function sparkline(values: ArrayLike<number>, width = 60): string {
  if (values.length === 0) return '';
  const columns = Math.min(width, values.length);
  const means = Array.from({ length: columns }, (_, c) => {
    const start = Math.floor((c * values.length) / columns);
    const end = Math.max(start + 1, Math.floor(((c + 1) * values.length) / columns));
    let sum = 0;
    for (let i = start; i < end; i++) sum += values[i];
    return sum / (end - start);
  });
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  return means.map((v) => bars[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (bars.length - 1))]).join('');
}

interface Coverage {
  name: string;
  label: string;
  min: number;
  max: number;
  mean: number;
  priorMin: number;
  priorMax: number;
}

function coverage(params: Record<string, number>[]): Coverage[] {
  return parameterNames.map((name) => {
    const values = params.map((p) => p[name]);
    const info = parameterInfo[name];
    return {
      name,
      label: info.label,
      min: Math.min(...values),
      max: Math.max(...values),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      priorMin: info.min,
      priorMax: info.max,
    };
  });
}

/** A 20-character bar: the prior range, with the covered span marked. */
function coverageBar(c: Coverage): string {
  const width = 20;
  const at = (v: number) =>
    Math.max(0, Math.min(width - 1, Math.round(((v - c.priorMin) / (c.priorMax - c.priorMin)) * (width - 1))));
  return Array.from({ length: width }, (_, i) => (i >= at(c.min) && i <= at(c.max) ? '█' : '·')).join('');
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help);
    return exitCodes.ok;
  }
  const options = parseArgs(args);
  if (typeof options === 'string') {
    console.error(`l3m data: ${options}\n\n${help}`);
    return exitCodes.usage;
  }
  const loaded = await loadConfigFile(options.config!, 'run');
  if (hasErrors(loaded.diagnostics) || !loaded.config) {
    for (const d of loaded.diagnostics) console.error(formatDiagnostic(d, loaded.path));
    return exitCodes.invalid;
  }
  const config = loaded.config;
  const data = config.data;
  let lastReport = 0;
  const onProgress = (event: DatasetProgress) => {
    if (event.kind === 'started')
      console.error(`Simulating ${event.count} lightcones on ${event.workers} worker(s) into the cache…`);
    if (event.kind === 'finished-cone' && (Date.now() - lastReport > 2000 || event.acceptedSoFar === event.count)) {
      lastReport = Date.now();
      console.error(`  ${event.acceptedSoFar}/${event.count} accepted, ${event.rejectedSoFar} rejected`);
    }
    if (event.kind === 'store-started')
      console.error(`Converting ${event.cones} lightcones into the store ${event.folder}…`);
    if (event.kind === 'store-waiting')
      console.error(`Waiting for process ${event.pid}, which is converting this dataset into ${event.folder}…`);
  };
  try {
    const opened = await openDataset(data, {
      configDir: dirname(loaded.path),
      onProgress,
      rebuild: options.rebuild,
      onPhase: (text) => {
        if (Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          console.error(`  ${text}`);
        }
      },
    });
    const entries = await opened.source.list();
    const params = coverage(entries.map((e) => e.params));
    const labels = labelProvenance(await provenanceEntries(data, dirname(loaded.path), entries), data);
    const statsIds = opened.ids.slice(0, options.maxCones);
    const records: LightconeRecord[] = [];
    for (const id of statsIds) records.push(await opened.source.load(id));
    const shape = entries[0].shape;
    const sameLength = records.every((r) => r.shape.nt === shape.nt);
    const meanSignal = new Float64Array(shape.nt);
    if (sameLength)
      for (const r of records)
        sliceMeans(r).forEach((v, k) => {
          meanSignal[k] += v / records.length;
        });
    const history = opened.simulated?.manifest.meanHistory ?? meanFileHistory(records);

    const outDir = resolve(options.out ?? join('runs', config.name, 'data-preview'));
    const preview = await writePreview(records[0], options.slices, outDir, sameLength ? meanSignal : undefined);

    const summary = {
      source: opened.source.description,
      lightcones: entries.length,
      shape,
      split: {
        train: opened.split.train.length,
        validation: opened.split.validation.length,
        test: opened.split.test.length,
      },
      store: { folder: opened.store.folder, fromCache: opened.storeFromCache, cacheMb: data.cache_mb },
      simulated: opened.simulated && {
        folder: opened.simulated.folder,
        fromCache: opened.simulated.fromCache,
        rejected: opened.simulated.manifest.rejected.length,
        seconds: opened.simulated.manifest.seconds,
      },
      coverage: params,
      labels,
      history,
      meanGlobalSignal: sameLength ? Array.from(meanSignal) : undefined,
      preview,
    };
    if (options.json) {
      console.log(JSON.stringify(summary));
      return exitCodes.ok;
    }
    const lines = [
      `Dataset: ${summary.source}`,
      `  ${entries.length} lightcones of ${shape.nx}×${shape.ny}×${shape.nt} (x, y, slices); split train/validation/test = ` +
        `${summary.split.train}/${summary.split.validation}/${summary.split.test} (seed ${data.splits.seed})`,
    ];
    lines.push(
      `  store: ${summary.store.folder} (${summary.store.fromCache ? 'reused' : 'converted now'}; chunk cache ${data.cache_mb} MB)`,
    );
    if (summary.simulated) {
      lines.push(
        `  simulator cache: ${summary.simulated.folder} (${summary.simulated.fromCache ? 'reused' : `generated in ${summary.simulated.seconds.toFixed(1)} s`}, ` +
          `${summary.simulated.rejected} draw(s) rejected by the τ/x_HI cut)`,
      );
    }
    lines.push('', 'Parameter coverage (min … max, mean; bar = prior range):');
    for (const c of params) {
      lines.push(
        `  ${c.label.padEnd(12)} ${fmt(c.min).padStart(7)} … ${fmt(c.max).padEnd(7)} mean ${fmt(c.mean).padEnd(7)} ` +
          `${coverageBar(c)} [${c.priorMin}, ${c.priorMax}]`,
      );
    }
    lines.push('', 'Where the labels come from (lightcones):');
    for (const name of parameterNames) {
      const origins = labels[name].map(({ from, count }) => `${from} (${count})`).join(', ');
      lines.push(`  ${parameterInfo[name].label.padEnd(12)} ${origins}`);
    }
    if (history) {
      lines.push(
        '',
        `Mean neutral fraction x_HI, z = ${fmt(history.z[0])} → ${fmt(history.z[history.z.length - 1])}:`,
        `  ${sparkline(history.xHI)}  (${fmt(Math.min(...history.xHI))} … ${fmt(Math.max(...history.xHI))})`,
      );
    } else {
      lines.push('', 'Mean neutral fraction: not stored in these files.');
    }
    if (sameLength) {
      lines.push(
        '',
        `Mean global signal ⟨δT_b⟩ over ${records.length} cone(s), slice 0 (low z) → ${shape.nt - 1}:`,
        `  ${sparkline(meanSignal)}  (${fmt(Math.min(...meanSignal))} … ${fmt(Math.max(...meanSignal))} mK)`,
      );
    }
    lines.push('', `Preview: ${preview.files.length} slice(s) of ${preview.lightcone} written to ${outDir}`);
    console.log(lines.join('\n'));
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof DataError) {
      console.error(`l3m data: ${error.message}`);
      return exitCodes.invalid;
    }
    throw error;
  }
}

/**
 * The entries whose provenance to show: a store keeps only the values, so 21cmFAST files are listed
 * again (their metadata, no voxels) for where each label came from; other sources record none.
 */
async function provenanceEntries(
  data: ResolvedData,
  configDir: string,
  stored: LightconeEntry[],
): Promise<LightconeEntry[]> {
  if (data.source !== 'files' || data.files.format !== 'hdf5') return stored;
  const files = filesSource(data, configDir);
  try {
    return await files.list();
  } finally {
    await files.close();
  }
}

/** Mean of the files' own global histories (21cmFAST global_quantities), when all share node redshifts. */
function meanFileHistory(records: LightconeRecord[]): { z: number[]; xHI: number[]; meanTb: number[] } | undefined {
  const withHistory = records.filter((r) => r.history?.xHI);
  if (withHistory.length === 0) return undefined;
  const z = Array.from(withHistory[0].history!.z);
  const same = withHistory.filter((r) => r.history!.z.length === z.length);
  const mean = (pick: (r: LightconeRecord) => Float64Array | undefined) =>
    z.map((_, i) => same.reduce((s, r) => s + (pick(r)?.[i] ?? NaN), 0) / same.length);
  return { z, xHI: mean((r) => r.history!.xHI), meanTb: mean((r) => r.history!.meanTb) };
}

/** Writes `count` evenly spaced slices of `record` as float32 [x, y] .npy files plus index.json. */
async function writePreview(record: LightconeRecord, count: number, outDir: string, meanSignal?: Float64Array) {
  await mkdir(outDir, { recursive: true });
  const { nx, ny, nt } = record.shape;
  const plane = nx * ny;
  const picks = Array.from(
    new Set(Array.from({ length: Math.min(count, nt) }, (_, i) => Math.round((i * (nt - 1)) / Math.max(1, count - 1)))),
  );
  const stem = record.id.replace(/\.[^.]+$/, '');
  const files: { file: string; slice: number; redshift?: number }[] = [];
  for (const k of picks) {
    const file = `${stem}_slice${String(k).padStart(5, '0')}.npy`;
    await writeFile(join(outDir, file), writeNpy(record.brightness.slice(k * plane, (k + 1) * plane), [nx, ny]));
    files.push({ file, slice: record.firstSlice + k, redshift: record.redshifts?.[k] });
  }
  if (meanSignal) await writeFile(join(outDir, 'mean_global_signal.npy'), writeNpy(meanSignal, [meanSignal.length]));
  const index = {
    lightcone: record.id,
    source: record.source,
    params: record.params,
    files,
    meanGlobalSignal: meanSignal ? 'mean_global_signal.npy' : undefined,
  };
  await writeFile(join(outDir, 'index.json'), JSON.stringify(index, null, 1));
  return { lightcone: record.id, files };
}
