// One-off measurement (not a test): peak memory of loading a full-size Qwen2.5-0.5B checkpoint.
// Writes a random bf16 checkpoint with the real config and tensor names (≈1 GB) into a folder, then loads it
// with loadHfCheckpoint in a fresh child process and reports that process's peak RSS against the float32 size
// of the weights (the budget is about 2×).
//   node --import tsx test/reference/measure_load_memory.ts [folder]     (default: a folder under the OS temp dir)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { qwen25_05bInstruct, toHfConfig } from '../../sidecar/model/qwen2_config';
import { qwen2WeightShapes } from '../../sidecar/model/qwen2_model';
import { writeSafetensors } from '../../sidecar/checkpoint/safetensors_writer';
import { loadHfCheckpoint } from '../../sidecar/checkpoint/hf_checkpoint';
import { parseJson } from '../read_json';

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

function writeCheckpoint(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({ ...toHfConfig(qwen25_05bInstruct), torch_dtype: 'bfloat16' }),
  );
  let state = 12345;
  const tensors = [...qwen2WeightShapes(qwen25_05bInstruct)].map(([name, shape]) => ({
    name,
    shape,
    dtype: 'BF16' as const,
    values: () => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < values.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        values[i] = (state / 4294967296 - 0.5) * 0.04;
      }
      return values;
    },
  }));
  writeSafetensors(join(folder, 'model.safetensors'), tensors, { format: 'pt' });
}

/** What the child that loads the checkpoint prints as its last line. */
interface LoadMeasurement {
  parameters: number;
  float32Bytes: number;
  baselineRss: number;
  peakRss: number;
  seconds: number;
}

async function load(folder: string): Promise<void> {
  await tf.setBackend('cpu');
  const baseline = process.memoryUsage().rss;
  const started = Date.now();
  const { model } = loadHfCheckpoint(folder);
  const seconds = (Date.now() - started) / 1000;
  const parameters = model.parameterCount();
  const peak = process.resourceUsage().maxRSS * 1024;
  const measurement: LoadMeasurement = {
    parameters,
    float32Bytes: parameters * 4,
    baselineRss: baseline,
    peakRss: peak,
    seconds,
  };
  console.log(JSON.stringify(measurement));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--load') return load(process.argv[3]);
  const folder = process.argv[2] ?? join(tmpdir(), 'l3m-qwen25-05b-random');
  if (!existsSync(join(folder, 'model.safetensors'))) {
    console.log(`writing a random bf16 Qwen2.5-0.5B checkpoint to ${folder} ...`);
    writeCheckpoint(folder);
  }
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--load', folder], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`loading failed: ${child.stderr}`);
  const result = parseJson<LoadMeasurement>(child.stdout.trim().split('\n').at(-1)!);
  console.log(`parameters ${(result.parameters / 1e6).toFixed(1)}M, float32 weights ${gib(result.float32Bytes)} GiB`);
  console.log(
    `load time ${result.seconds.toFixed(1)} s; RSS before loading ${gib(result.baselineRss)} GiB, peak ${gib(result.peakRss)} GiB`,
  );
  console.log(
    `peak / float32 size = ${(result.peakRss / result.float32Bytes).toFixed(2)} ` +
      `(peak minus baseline: ${((result.peakRss - result.baselineRss) / result.float32Bytes).toFixed(2)})`,
  );
  console.log(JSON.stringify({ name: 'hf_load_memory', ...result, ratio: result.peakRss / result.float32Bytes }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
