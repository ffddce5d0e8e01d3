// Runs bench/_torch/train_step.py under each PyTorch set-up worth comparing on this machine and checks that
// its loss equals the TF.js loss for the same weights and batch.
//
// Why several set-ups: Debian's python3-torch 1.13 calls whatever libblas.so.3 the alternatives system points
// at (reference BLAS, or OpenBLAS 0.3.21 as a pthread or an OpenMP build). OpenBLAS 0.3.21 mis-detects this
// AVX-512 Xeon (it picks a Prescott kernel unless OPENBLAS_CORETYPE=SkylakeX, which makes PyTorch much slower
// than it need be), and a pthread build next to torch's own OpenMP threads oversubscribes 2 vCPUs. The fair
// reference is the fastest correct one.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface TorchVariant {
  name: string;
  env: Record<string, string>;
  slow?: boolean;
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

export function torchVariants(): TorchVariant[] {
  let installed = 'libblas.so.3';
  try {
    installed = realpathSync(path.join(libDir, 'libblas.so.3'));
  } catch {
    /* reported as the link name */
  }
  const variants: TorchVariant[] = [
    {
      name: `as installed (libblas.so.3 → ${installed}), 2 threads`,
      env: { L3M_TORCH_THREADS: '2' },
      slow: installed.includes('/blas/'),
    },
  ];
  const pthread = path.join(libDir, 'openblas-pthread');
  const openmp = path.join(libDir, 'openblas-openmp');
  if (existsSync(pthread)) {
    variants.push(
      {
        name: 'OpenBLAS pthread, core auto-detected, 2 threads',
        env: { LD_LIBRARY_PATH: pthread, L3M_TORCH_THREADS: '2' },
      },
      {
        name: 'OpenBLAS pthread, SkylakeX, 2 BLAS threads, torch 2',
        env: {
          LD_LIBRARY_PATH: pthread,
          OPENBLAS_CORETYPE: 'SkylakeX',
          OPENBLAS_NUM_THREADS: '2',
          L3M_TORCH_THREADS: '2',
        },
      },
      {
        name: 'OpenBLAS pthread, SkylakeX, 1 BLAS thread, torch 1',
        env: {
          LD_LIBRARY_PATH: pthread,
          OPENBLAS_CORETYPE: 'SkylakeX',
          OPENBLAS_NUM_THREADS: '1',
          L3M_TORCH_THREADS: '1',
        },
      },
    );
  }
  if (existsSync(openmp)) {
    variants.push(
      {
        name: 'OpenBLAS OpenMP, SkylakeX, OMP 2 threads',
        env: { LD_LIBRARY_PATH: openmp, OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: '2', L3M_TORCH_THREADS: '2' },
      },
      {
        name: 'OpenBLAS OpenMP, SkylakeX, OMP 1 thread',
        env: { LD_LIBRARY_PATH: openmp, OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: '1', L3M_TORCH_THREADS: '1' },
      },
    );
  }
  return variants;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs every variant on the exported folder; prints one line each; `heavy` cuts slow set-ups to one step. */
export function runTorch(
  folder: string,
  variants: TorchVariant[],
  iterations: number,
  tfjsLoss: number,
  flops: number,
  heavy: boolean,
): TorchResult[] {
  const script = path.join('bench', '_torch', 'train_step.py');
  const results: TorchResult[] = [];
  for (const variant of variants) {
    const steps = variant.slow ? 1 : heavy ? Math.min(iterations, 3) : iterations;
    const run = spawnSync('/usr/bin/python3', [script, folder, '1', String(steps)], {
      encoding: 'utf8',
      env: { ...process.env, ...variant.env },
      timeout: 600_000,
    });
    const line = run.stdout?.trim().split('\n').pop() ?? '';
    let parsed: { loss: number; ms: number[]; threads: number; blas: string; env: Record<string, string> };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      console.log(
        `  torch  ${variant.name}: failed (${(run.stderr ?? run.error?.message ?? '').trim().split('\n').pop()})`,
      );
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
