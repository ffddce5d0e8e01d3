// Real run folders for the panel tests and the benchmark: run.json, config.json, metrics.jsonl,
// samples/ with float32 .npy files, eval/regression.json — written the way the sidecar writes them,
// including the bad cases the panels must survive (a truncated last line, NaN written as null, a
// corrupt .npy, a missing .npy).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';
import { encodeNpy } from '../../sidecar/protocol/npy_format';
import type { MetricRecord, RegressionEvaluationFile, RunRecord, SampleIndex } from '../../sidecar/protocol/run_folder';

/** A little-endian float32 .npy (format 1.0) of the given shape, written by the sidecar's own encoder. */
export function npyBytes(shape: number[], data: Float32Array): Buffer {
  return Buffer.from(encodeNpy(data, shape));
}

function runRecord(experiment: string, id: string, task: RunRecord['task'], status: RunRecord['status']): RunRecord {
  return {
    id,
    experiment,
    task,
    status,
    version: '0.1.0',
    createdAt: '2026-11-23T10:00:00Z',
    startedAt: '2026-11-23T10:00:01Z',
    device: { backend: 'wasm', device: 'cpu (2 threads)' },
    progress: { step: 100, totalSteps: 100, epoch: 2 },
  };
}

export function writeRun(
  runsDir: string,
  experiment: string,
  id: string,
  task: RunRecord['task'],
  config: unknown,
  status: RunRecord['status'] = 'completed',
): string {
  const runDir = join(runsDir, experiment, id);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'run.json'), JSON.stringify(runRecord(experiment, id, task, status), null, 2));
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2));
  return runDir;
}

/** `steps` train records (loss, lr, steps_per_s) and a validation loss every `valEvery` steps. */
export function trainingRecords(steps: number, valEvery: number, seed = 1, lossScale = 1): MetricRecord[] {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const records: MetricRecord[] = [];
  for (let step = 1; step <= steps; step++) {
    const loss = lossScale * (2 * Math.exp(-step / (steps / 4)) + 0.3 + 0.2 * (random() - 0.5));
    records.push({
      step,
      epoch: Math.floor((step - 1) / 50),
      wall_time: step * 0.25,
      split: 'train',
      loss,
      lr: 1e-3 * Math.min(1, step / 10),
      steps_per_s: 4 + random(),
    });
    if (step % valEvery === 0)
      records.push({
        step,
        epoch: Math.floor((step - 1) / 50),
        wall_time: step * 0.25 + 0.1,
        split: 'val',
        loss: lossScale * (2 * Math.exp(-step / (steps / 4)) + 0.35),
      });
  }
  return records;
}

export function writeMetrics(runDir: string, records: MetricRecord[], truncatedTail = ''): void {
  writeFileSync(join(runDir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n' + truncatedTail);
}

/** A δT_21-like cube [slices, n, n]: ionised bubbles (≈0) growing in a field that goes from absorption to emission. */
export function lightconeCube(slices: number, n: number, phase = 0): Float32Array {
  const out = new Float32Array(slices * n * n);
  for (let s = 0; s < slices; s++) {
    const mean = -40 + (70 * s) / Math.max(slices - 1, 1);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const wave = Math.sin(((2 * Math.PI * (x + phase)) / n) * 2) * Math.cos(((2 * Math.PI * y) / n) * 3);
        const bubble = Math.hypot(x - n / 2, y - n / 2) < (n / 3) * (s / slices) ? 0 : 1;
        out[s * n * n + y * n + x] = bubble * (mean + 15 * wave);
      }
    }
  }
  return out;
}

/** samples/ with a good entry (4 context slices, redshifts) and a second entry whose generated file is corrupt and truth missing. */
export function writeSamples(
  runDir: string,
  slices: number,
  n: number,
): { truth: Float32Array; generated: Float32Array } {
  const dir = join(runDir, 'samples');
  mkdirSync(dir, { recursive: true });
  const truth = lightconeCube(slices, n);
  const generated = lightconeCube(slices, n, 1.5);
  // The generated file repeats the context slices, as the sampler writes them.
  generated.set(truth.subarray(0, 4 * n * n));
  writeFileSync(join(dir, 'lc0_truth.npy'), npyBytes([slices, n, n], truth));
  writeFileSync(join(dir, 'lc0_generated.npy'), npyBytes([slices, n, n], generated));
  writeFileSync(join(dir, 'lc1_generated.npy'), Buffer.from('not a numpy file'));
  const index: SampleIndex = {
    entries: [
      {
        lightcone: 0,
        firstSlice: 4,
        contextSlices: 4,
        generated: 'lc0_generated.npy',
        truth: 'lc0_truth.npy',
        redshifts: Array.from({ length: slices }, (_, i) => 12 - (i * 6) / slices),
        createdAt: '2026-11-23T10:05:00Z',
      },
      {
        lightcone: 1,
        firstSlice: 4,
        contextSlices: 4,
        generated: 'lc1_generated.npy',
        truth: 'lc1_truth.npy',
        createdAt: '2026-11-23T10:05:00Z',
      },
    ],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2));
  return { truth, generated };
}

export function writeRegressionEvaluation(runDir: string): RegressionEvaluationFile {
  const names = [
    ['mWDM', 'm_WDM', 'keV', 0.3, 10],
    ['omegaM', 'Ω_m', '', 0.2, 0.4],
    ['E0', 'E_0', 'eV', 100, 1500],
    ['log10LX', 'log₁₀ L_X', '', 38, 42],
    ['log10Tvir', 'log₁₀ T_vir', 'K', 4, 5.3],
    ['zeta', 'ζ', '', 10, 250],
  ] as const;
  let s = 7;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const points = Array.from({ length: 60 }, (_, i) => {
    const truth = names.map(() => random());
    const mean = truth.map((t, k) => Math.min(1, Math.max(0, t + (random() - 0.5) * (0.1 + (0.15 * k) / 5))));
    return { id: `lc${i}`, truth, mean, sigma: mean.map(() => 0.05 + 0.05 * random()) };
  });
  const evaluation: RegressionEvaluationFile = {
    kind: 'regression',
    formatVersion: 1,
    testLightcones: points.length,
    samplesPerLightcone: 100,
    nll: -8.4,
    parameters: names.map(([name, label, unit, min, max], k) => ({
      name,
      label,
      unit,
      min,
      max,
      r2: 0.95 - 0.1 * k,
      coverage68: 0.66 + 0.01 * k,
      coverage95: 0.94,
      meanSigma: 0.07,
      bins: Array.from({ length: 10 }, (_, b) => {
        const inBin = points.filter((p) => p.truth[k] >= b / 10 && p.truth[k] < (b + 1) / 10);
        const mean = inBin.length ? inBin.reduce((a, p) => a + p.mean[k], 0) / inBin.length : null;
        return {
          lo: b / 10,
          hi: (b + 1) / 10,
          count: inBin.length,
          mean,
          std: inBin.length ? 0.06 : null,
          meanAbsError: inBin.length ? 0.05 : null,
        };
      }),
    })),
    points,
  };
  mkdirSync(join(runDir, 'eval'), { recursive: true });
  writeFileSync(join(runDir, 'eval', 'regression.json'), JSON.stringify(evaluation));
  return evaluation;
}

/**
 * A running regression run with no samples whose config (beside it, as run.json records) reads four
 * n × n × nt .npz lightcones from runsDir/lcs: in cone c, slice k is the constant (k + 1)·(c + 1), so every
 * slice of a data preview is checkable.
 */
export function writePreviewRun(runsDir: string, n: number, nt: number): string {
  const dataDir = join(runsDir, 'lcs');
  mkdirSync(dataDir, { recursive: true });
  for (let c = 0; c < 4; c++) {
    const image = new Float32Array(n * n * nt);
    for (let ij = 0; ij < n * n; ij++) for (let k = 0; k < nt; k++) image[ij * nt + k] = (k + 1) * (c + 1);
    writeFileSync(
      join(dataDir, `lc${c}.npz`),
      encodeLightconeNpz(image, [n, n, nt], labelFromParams({ ...fiducialParams, zeta: 20 + 10 * c })),
    );
  }
  const config = {
    name: 'preview',
    task: 'regression',
    backbone: { source: 'random' },
    data: {
      source: 'files',
      files: { format: 'npz', path: './lcs', transverse_cells: n },
      patch_size: 14,
      splits: { validation_fraction: 0.25, test_fraction: 0.25, seed: 1 },
      preprocessing: { global_signal_tokens: 6 },
    },
  };
  const configPath = join(runsDir, 'preview.l3m.json');
  writeFileSync(configPath, JSON.stringify(config));
  const runDir = writeRun(runsDir, 'preview', '20261123-100000-eeee', 'regression', config, 'running');
  const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(runDir, 'run.json'), JSON.stringify({ ...record, configPath }));
  return runDir;
}
