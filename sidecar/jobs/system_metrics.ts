// System metrics of a training run: every 10 s the sidecar appends one line to metrics.jsonl with the
// process's CPU use (its worker threads included; one core counts 100), its resident memory and, on a GPU
// backend, the memory its tensors hold there. The line has `kind: "system"` and no `split`
// (protocol/run_folder.ts SystemRecord), so readers of training metrics skip it. The rate is low so that
// a long run's file stays dominated by its training lines; a failed write is reported once and sampling
// goes on, since these figures must never stop a run.
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SystemRecord } from '../protocol/run_folder';
import { errorMessage } from '../protocol/error_message';

/** The default time between samples; L3M_SYSTEM_METRICS_INTERVAL_S overrides it (0 turns sampling off). */
export const systemMetricsIntervalMs = 10_000;

/** Backends whose tensors live in GPU memory, for which tf.memory() tells what they hold. */
const gpuBackends: ReadonlySet<string> = new Set(['cuda', 'webgpu', 'webgl']);

/** The bytes TF.js tensors hold on the GPU on a GPU backend; undefined on a CPU one. */
export function tensorGpuBytes(backend: string): number | undefined {
  if (!gpuBackends.has(backend)) return undefined;
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return memory.numBytesInGPU ?? memory.numBytes;
}

/** The interval L3M_SYSTEM_METRICS_INTERVAL_S asks for, in ms; the default when unset; an error naming the value when it is not a number. */
export function systemMetricsInterval(environment: string | undefined): number {
  if (environment === undefined || environment.trim() === '') return systemMetricsIntervalMs;
  const seconds = Number(environment);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(
      `L3M_SYSTEM_METRICS_INTERVAL_S is "${environment}", which is not a number of seconds; use e.g. 10, or 0 to record no system metrics.`,
    );
  return seconds * 1000;
}

/**
 * The utilisation nvidia-smi reports (`--query-gpu=utilization.gpu --format=csv,noheader,nounits`: one line
 * per GPU), the busiest GPU's; null for output that holds no number (a driver error, "[N/A]").
 */
export function parseGpuUtilisation(output: string): number | null {
  const values = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map(Number)
    .filter((value) => Number.isFinite(value));
  return values.length > 0 ? Math.max(...values) : null;
}

/** Asks nvidia-smi for the GPU's utilisation without blocking the training thread; null when it cannot tell. */
export function nvidiaSmiUtilisation(): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=utilization.gpu', '--format=csv,noheader,nounits'],
      { timeout: 5000, encoding: 'utf8' },
      (error, stdout) => resolve(error ? null : parseGpuUtilisation(stdout)),
    );
  });
}

export interface SystemSampler {
  /** Microseconds of CPU time (user + system) the process used so far. */
  cpuMicros(): number;
  rssBytes(): number;
  /** GPU bytes, or undefined on a CPU backend. */
  gpuBytes(): number | undefined;
  /** The GPU's utilisation in %, on a backend that can tell (cuda: nvidia-smi); absent elsewhere. */
  gpuUtilisation?: () => Promise<number | null>;
  /** Milliseconds, monotonic. */
  now(): number;
}

export function processSampler(backend: string): SystemSampler {
  return {
    cpuMicros: () => {
      const usage = process.cpuUsage();
      return usage.user + usage.system;
    },
    rssBytes: () => process.memoryUsage.rss(),
    gpuBytes: () => tensorGpuBytes(backend),
    now: () => performance.now(),
    ...(backend === 'cuda' ? { gpuUtilisation: nvidiaSmiUtilisation } : {}),
  };
}

const mb = (bytes: number) => Math.round((bytes / (1 << 20)) * 10) / 10;

/**
 * Takes samples from `sampler` and turns each pair into a record: CPU % is the CPU time used between two
 * samples over the wall time between them.
 */
export class SystemMetricsMeter {
  private lastCpu: number;
  private lastTime: number;

  constructor(private readonly sampler: SystemSampler) {
    this.lastCpu = sampler.cpuMicros();
    this.lastTime = sampler.now();
  }

  sample(wallTime: number, step: number): SystemRecord {
    const cpu = this.sampler.cpuMicros();
    const time = this.sampler.now();
    const elapsedMs = time - this.lastTime;
    const cpuPercent = elapsedMs > 0 ? Math.round(((cpu - this.lastCpu) / 1000 / elapsedMs) * 1000) / 10 : null;
    this.lastCpu = cpu;
    this.lastTime = time;
    const record: SystemRecord = {
      kind: 'system',
      wall_time: Math.round(wallTime * 1000) / 1000,
      step,
      cpu_percent: cpuPercent,
      rss_mb: mb(this.sampler.rssBytes()),
    };
    const gpu = this.sampler.gpuBytes();
    if (gpu !== undefined) record.gpu_mb = mb(gpu);
    return record;
  }
}

export interface SystemMetricsOptions {
  runDir: string;
  intervalMs: number;
  sampler: SystemSampler;
  /** Seconds since the run started, on the clock of its metric records. */
  wallTime(): number;
  /** The last training step. */
  step(): number;
  /** Told once when a line could not be written. */
  warn(message: string): void;
}

/** Appends a SystemRecord to the run's metrics.jsonl every `intervalMs` until stopped. */
export function startSystemMetrics(options: SystemMetricsOptions): { stop(): Promise<void> } {
  if (options.intervalMs <= 0) return { stop: () => Promise.resolve() };
  const meter = new SystemMetricsMeter(options.sampler);
  const file = join(options.runDir, 'metrics.jsonl');
  let writing: Promise<void> = Promise.resolve();
  let warned = false;
  const utilisation = options.sampler.gpuUtilisation;
  const timer = setInterval(() => {
    const record = meter.sample(options.wallTime(), options.step());
    writing = writing
      .then(async () => {
        if (utilisation) record.gpu_util = await utilisation();
        await appendFile(file, JSON.stringify(record) + '\n', 'utf8');
      })
      .catch((error: unknown) => {
        if (warned) return;
        warned = true;
        options.warn(`Could not record system metrics in ${file}: ${errorMessage(error)}; training goes on.`);
      });
  }, options.intervalMs);
  // A sampling timer alone must not keep the process alive.
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await writing;
    },
  };
}

/**
 * The run's wall time (seconds since it started, as its metric records count it, across resumes) between
 * records: the last record's wall_time plus the time since it was written; before the first record of
 * this process, the time since it started plus where run.json's progress left the run (0 for a new run).
 */
export class RunWallClock {
  private anchor: { wallTime: number; at: number };

  constructor(
    startWallTime = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.anchor = { wallTime: startWallTime, at: now() };
  }

  saw(records: readonly { wall_time: number }[]): void {
    if (records.length > 0) this.anchor = { wallTime: records[records.length - 1].wall_time, at: this.now() };
  }

  wallTime(): number {
    return this.anchor.wallTime + (this.now() - this.anchor.at) / 1000;
  }
}
