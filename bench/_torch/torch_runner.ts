// Runs bench/_torch/train_step.py under each PyTorch set-up worth comparing on this machine and checks that
// its loss equals the TF.js loss for the same weights and batch.
//
// Why several set-ups: Debian's python3-torch 1.13 calls whatever libblas.so.3 the alternatives system points
// at (reference BLAS, or OpenBLAS 0.3.21 as a pthread or an OpenMP build). OpenBLAS 0.3.21 can mis-detect a CPU
// (it picked a Prescott kernel on an AVX-512 Xeon unless OPENBLAS_CORETYPE named the core), and a pthread build
// next to torch's own OpenMP threads oversubscribes 2 vCPUs. The fair reference is the fastest correct one.
// A forced core type must be one the CPU can execute: SkylakeX kernels need AVX-512 (they died with SIGILL and
// an empty message on an AMD EPYC without it), Haswell kernels need AVX2 and FMA. The variants are chosen from
// /proc/cpuinfo's flags, and every variant left out or failing is printed with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface TorchVariant {
  name: string;
  env: Record<string, string>;
  /** Variables of this process's environment the variant runs without (an inherited OPENBLAS_CORETYPE). */
  unset?: string[];
  slow?: boolean;
}

/** A variant not run on this machine, and why. */
export interface SkippedVariant {
  name: string;
  reason: string;
}

export interface TorchResult {
  name: string;
  ms: number;
  gflops: number;
  loss: number;
  lossMatches: boolean;
  relativeLossError: number;
  threads: number;
  blas: string;
  env: Record<string, string>;
  steps: number;
}

const libDir = '/usr/lib/x86_64-linux-gnu';

/** The CPU's feature flags (the first processor's "flags" line of /proc/cpuinfo); empty where unreadable. */
export function cpuFlags(cpuinfo?: string): Set<string> {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set(
    line
      ? line
          .replace(/^flags\s*:/, '')
          .trim()
          .split(/\s+/)
      : [],
  );
}

/** The OpenBLAS core type to force on this CPU, or why none can be: the newest kernel family its flags allow. */
export function forcedCoreType(flags: Set<string>): { coreType: string } | { reason: string } {
  if (flags.has('avx512f') && flags.has('avx512bw') && flags.has('avx512vl')) return { coreType: 'SkylakeX' };
  if (flags.has('avx2') && flags.has('fma')) return { coreType: 'Haswell' };
  if (flags.size === 0) return { reason: 'the CPU flags could not be read (/proc/cpuinfo)' };
  return { reason: 'the CPU has neither AVX-512 (SkylakeX kernels) nor AVX2+FMA (Haswell kernels)' };
}

export function torchVariants(flags: Set<string> = cpuFlags()): {
  variants: TorchVariant[];
  skipped: SkippedVariant[];
} {
  let installed = 'libblas.so.3';
  try {
    installed = realpathSync(path.join(libDir, 'libblas.so.3'));
  } catch {
    /* reported as the link name */
  }
  const variants: TorchVariant[] = [
    {
      name:
        `as installed (libblas.so.3 → ${installed}` +
        `${process.env['OPENBLAS_CORETYPE'] ? `, OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE']} inherited` : ''}), 2 threads`,
      env: { L3M_TORCH_THREADS: '2' },
      slow: installed.includes('/blas/'),
    },
  ];
  const skipped: SkippedVariant[] = [];
  const forced = forcedCoreType(flags);
  const pthread = path.join(libDir, 'openblas-pthread');
  const openmp = path.join(libDir, 'openblas-openmp');
  if (existsSync(pthread)) {
    variants.push({
      name: 'OpenBLAS pthread, core auto-detected, 2 threads',
      env: { LD_LIBRARY_PATH: pthread, L3M_TORCH_THREADS: '2' },
      unset: ['OPENBLAS_CORETYPE'],
    });
    if ('coreType' in forced) {
      variants.push(
        {
          name: `OpenBLAS pthread, ${forced.coreType}, 2 BLAS threads, torch 2`,
          env: {
            LD_LIBRARY_PATH: pthread,
            OPENBLAS_CORETYPE: forced.coreType,
            OPENBLAS_NUM_THREADS: '2',
            L3M_TORCH_THREADS: '2',
          },
        },
        {
          name: `OpenBLAS pthread, ${forced.coreType}, 1 BLAS thread, torch 1`,
          env: {
            LD_LIBRARY_PATH: pthread,
            OPENBLAS_CORETYPE: forced.coreType,
            OPENBLAS_NUM_THREADS: '1',
            L3M_TORCH_THREADS: '1',
          },
        },
      );
    } else skipped.push({ name: 'OpenBLAS pthread with a forced core type', reason: forced.reason });
    variants.push({
      name: 'OpenBLAS pthread, core auto-detected, 1 thread',
      env: { LD_LIBRARY_PATH: pthread, OPENBLAS_NUM_THREADS: '1', L3M_TORCH_THREADS: '1' },
      unset: ['OPENBLAS_CORETYPE'],
    });
  } else
    skipped.push({ name: 'OpenBLAS pthread', reason: `${pthread} is absent (Debian package libopenblas0-pthread)` });
  if (existsSync(openmp)) {
    const core: Record<string, string> = 'coreType' in forced ? { OPENBLAS_CORETYPE: forced.coreType } : {};
    const label = 'coreType' in forced ? forced.coreType : 'core auto-detected';
    const unset = 'coreType' in forced ? [] : ['OPENBLAS_CORETYPE'];
    variants.push(
      {
        name: `OpenBLAS OpenMP, ${label}, OMP 2 threads`,
        env: { LD_LIBRARY_PATH: openmp, ...core, OMP_NUM_THREADS: '2', L3M_TORCH_THREADS: '2' },
        unset,
      },
      {
        name: `OpenBLAS OpenMP, ${label}, OMP 1 thread`,
        env: { LD_LIBRARY_PATH: openmp, ...core, OMP_NUM_THREADS: '1', L3M_TORCH_THREADS: '1' },
        unset,
      },
    );
  } else skipped.push({ name: 'OpenBLAS OpenMP', reason: `${openmp} is absent (Debian package libopenblas0-openmp)` });
  return { variants, skipped };
}

/** Why a child process gave no result: its signal or exit status, and the last line of what it said. */
export function failureReason(run: {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr?: string | null;
  stdout?: string | null;
  error?: Error;
}): string {
  const how = run.error
    ? run.error.message
    : run.signal
      ? `killed by ${run.signal}${run.signal === 'SIGILL' ? ' (an instruction this CPU lacks)' : ''}`
      : run.status !== 0
        ? `exit status ${run.status}`
        : 'no JSON result line';
  const said = (run.stderr ?? '').trim().split('\n').pop() || (run.stdout ?? '').trim().split('\n').pop() || '';
  return said ? `${how}: ${said}` : `${how}, nothing on stderr`;
}

function withoutVariables(env: NodeJS.ProcessEnv, names: string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of names) delete copy[name];
  return copy;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs every variant on the exported folder; prints one line each; `heavy` cuts slow set-ups to one step. */
export function runTorch(
  folder: string,
  { variants, skipped }: { variants: TorchVariant[]; skipped: SkippedVariant[] },
  iterations: number,
  tfjsLoss: number,
  flops: number,
  heavy: boolean,
): TorchResult[] {
  const script = path.join('bench', '_torch', 'train_step.py');
  const results: TorchResult[] = [];
  for (const skip of skipped) console.log(`  torch  ${skip.name}: skipped (${skip.reason})`);
  for (const variant of variants) {
    const steps = variant.slow ? 1 : heavy ? Math.min(iterations, 3) : iterations;
    const run = spawnSync('/usr/bin/python3', [script, folder, '1', String(steps)], {
      encoding: 'utf8',
      env: withoutVariables({ ...process.env, ...variant.env }, variant.unset ?? []),
      timeout: 600_000,
    });
    const line = run.stdout?.trim().split('\n').pop() ?? '';
    let parsed: { loss: number; ms: number[]; threads: number; blas: string; env: Record<string, string> };
    try {
      if (run.status !== 0 || run.signal) throw new Error('failed');
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      console.log(`  torch  ${variant.name}: failed (${failureReason(run)})`);
      continue;
    }
    const ms = median(parsed.ms);
    const relativeLossError = Math.abs(parsed.loss - tfjsLoss) / Math.abs(tfjsLoss);
    const lossMatches = relativeLossError < 1e-4;
    results.push({
      name: variant.name,
      ms,
      gflops: flops / ms / 1e6,
      loss: parsed.loss,
      lossMatches,
      relativeLossError,
      threads: parsed.threads,
      blas: parsed.blas,
      env: parsed.env,
      steps: parsed.ms.length,
    });
    console.log(
      `  torch  ${ms.toFixed(0).padStart(7)} ms/step ${(flops / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s  loss ` +
        `${parsed.loss.toPrecision(7)} (${lossMatches ? 'equals' : 'DIFFERS FROM'} tfjs, rel ${relativeLossError.toExponential(1)})  ` +
        `${variant.name} [${path.basename(parsed.blas)}, ${parsed.threads} threads]`,
    );
  }
  return results;
}
