// Built-in simulator benchmark: the simulator is the default dataset, so its speed decides how soon a fresh
// machine can train (docs/simulator.md#presets, #fft and #validation):
//   1. the FFT choice: kissfft-wasm vs fft.js (r2c + c2r pair), with NumPy's pocketfft as the
//      reference measured in the same run when /usr/bin/python3 has numpy;
//   2. scaling of one coeval box with N (32³, 64³, 128³): ICs, Zel'dovich, one spin-temperature step,
//      one excursion-set pass;
//   3. seconds per lightcone at the `default` preset with 1 and 2 worker threads (dataset-like
//      parameters from sampleParams), and the projected time of a 36-cone quickstart set;
//   4. a validation report at the default size (the numbers of docs/simulator.md#validation against
//      their targets).
// Usage: npm run bench -- simulate [--quick]. Ends with one line of JSON.
import { spawnSync } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fiducialParams } from '../sidecar/data/parameters';
import { sampleParams, simulateLightcone, simulatorPresets } from '../sidecar/data/simulator';
import { Cosmology } from '../sidecar/data/simulator/cosmology';
import { createFft3, type FftBackendName } from '../sidecar/data/simulator/fft';
import { HaloModel } from '../sidecar/data/simulator/hmf';
import { generateInitialConditions } from '../sidecar/data/simulator/ics';
import { IonizationSolver, filterRadii } from '../sidecar/data/simulator/ionize';
import { makeKGrid } from '../sidecar/data/simulator/kspace';
import { powerSpectrum, type PowerSpectrum } from '../sidecar/data/simulator/observables';
import { INITIAL_REDSHIFT, zeldovichDensity } from '../sidecar/data/simulator/perturb';
import { Rng } from '../sidecar/data/simulator/rng';
import { SpinTemperature } from '../sidecar/data/simulator/spintemp';

const quick = process.argv.includes('--quick');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeFft(backend: FftBackendName, n: number, reps: number): Promise<number> {
  const fft = await createFft3(n, backend);
  try {
    const real = new Float32Array(n ** 3);
    new Rng(1).fillNormal(real);
    const spectrum = new Float32Array(2 * fft.halfLength);
    const times: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const t0 = performance.now();
      fft.forward(real, spectrum);
      fft.inverse(spectrum, real);
      if (r > 0) times.push(performance.now() - t0); // the first call warms up
    }
    return median(times);
  } finally {
    fft.dispose();
  }
}

/** NumPy rfftn + irfftn (float32 input, pocketfft) on the same CPU, or null when unavailable. */
function numpyFft(sizes: number[]): Record<number, number> | null {
  const script = `
import time, numpy as np
for n in ${JSON.stringify(sizes)}:
    a = np.random.default_rng(1).standard_normal((n, n, n)).astype(np.float32)
    np.fft.irfftn(np.fft.rfftn(a), s=a.shape)
    ts = []
    for _ in range(${quick ? 2 : 5}):
        t = time.perf_counter(); np.fft.irfftn(np.fft.rfftn(a), s=a.shape); ts.append(time.perf_counter() - t)
    print(n, sorted(ts)[len(ts) // 2] * 1000)
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) return null;
  const out: Record<number, number> = {};
  for (const line of result.stdout.trim().split('\n')) {
    const [n, ms] = line.split(' ').map(Number);
    out[n] = ms;
  }
  return out;
}

async function coevalScaling(n: number, boxMpc: number): Promise<Record<string, number>> {
  const lap = (() => {
    let t = performance.now();
    return () => {
      const now = performance.now();
      const d = now - t;
      t = now;
      return d / 1000;
    };
  })();
  const cosmology = new Cosmology(fiducialParams.omegaM);
  const halos = new HaloModel(cosmology, null, fiducialParams.log10Tvir);
  const tables = lap();
  const fft = await createFft3(n);
  try {
    const grid = makeKGrid(n, boxMpc);
    const ics = generateInitialConditions(halos.power, grid, fft, 1);
    const icsTime = lap();
    const z = 8;
    const deltaNl = new Float32Array(n ** 3);
    zeldovichDensity(ics, n, boxMpc / n, cosmology.growth(z), cosmology.growth(INITIAL_REDSHIFT), deltaNl);
    const deltaNlK = new Float32Array(2 * fft.halfLength);
    fft.forward(deltaNl, deltaNlK);
    const zaTime = lap();
    const spin = new SpinTemperature(
      cosmology,
      halos,
      ics,
      grid,
      fft,
      40,
      fiducialParams.zeta,
      fiducialParams.log10LX,
      fiducialParams.E0,
    );
    const shellSetup = lap();
    spin.step(20, 35);
    const spinStep = lap();
    const solver = new IonizationSolver(cosmology, halos, grid, fft, new Rng(1, 2));
    const xHI = new Float32Array(n ** 3);
    solver.solve(
      {
        z,
        zeta: fiducialParams.zeta,
        deltaNl,
        deltaNlK,
        recombinations: new Float32Array(n ** 3),
        xe: spin.state.xe,
        radii: filterRadii(boxMpc, n, 1.1, 3),
      },
      xHI,
    );
    const ionize = lap();
    return {
      tables,
      ics: icsTime,
      zeldovich: zaTime,
      tsShellSetup: shellSetup,
      tsStep: spinStep,
      excursionSet: ionize,
    };
  } finally {
    fft.dispose();
  }
}

/**
 * Runs cones `indices` of a sampleParams(2024) dataset on `workers` threads. The clock starts when
 * every worker has loaded the code (tsx compiles it once per thread), so start-up is not counted.
 */
async function conesWithWorkers(
  workers: number,
  indices: number[],
): Promise<{ wall: number; cpu: number; perCone: number[] }> {
  const chunks = Array.from({ length: workers }, (_, w) => indices.filter((_, i) => i % workers === w));
  // Worker threads do not inherit `--import tsx` on Node 20: register tsx's CommonJS hook in the
  // worker, then load this file, which takes the worker branch at the bottom.
  const bootstrap = `require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)});`;
  const pool = chunks.map((chunk) => new Worker(bootstrap, { eval: true, workerData: { indices: chunk } }));
  await Promise.all(
    pool.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        }),
    ),
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const results = await Promise.all(
    pool.map(
      (worker) =>
        new Promise<number[]>((resolve, reject) => {
          worker.once('message', (times: number[]) => resolve(times));
          worker.once('error', reject);
          worker.postMessage('go');
        }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpuUsed = process.cpuUsage(cpu0);
  await Promise.all(pool.map((worker) => worker.terminate()));
  // Process CPU time (all threads): robust to other load on a shared machine, unlike wall time.
  return { wall, cpu: (cpuUsed.user + cpuUsed.system) / 1e6, perCone: results.flat() };
}

async function workerMain(): Promise<void> {
  const port = parentPort!;
  // Warm the module graph and the WASM FFT before reporting ready.
  await createFft3(8).then((fft) => fft.dispose());
  port.postMessage('ready');
  await new Promise((resolve) => port.once('message', resolve));
  const times: number[] = [];
  for (const index of (workerData as { indices: number[] }).indices) {
    const t0 = performance.now();
    await simulateLightcone(sampleParams(2024, index), { size: 'default', seed: index });
    times.push((performance.now() - t0) / 1000);
  }
  port.postMessage(times);
}

async function validationReport(): Promise<Record<string, number>> {
  let mid: { xHI: number; z: number; spectrum: PowerSpectrum } | null = null;
  const cone = await simulateLightcone(
    { ...fiducialParams, mWDM: Infinity },
    {
      size: 'default',
      seed: 1,
      onNode: (node) => {
        const mean = node.xHI.reduce((a, b) => a + b, 0) / node.xHI.length;
        if (!mid || Math.abs(mean - 0.5) < Math.abs(mid.xHI - 0.5))
          mid = { xHI: mean, z: node.z, spectrum: powerSpectrum(node.brightness, node.n, node.boxMpc, node.fft, 8) };
      },
    },
  );
  const { z, xHI, meanTb } = cone.history;
  const at = (zq: number, ys: Float64Array): number => {
    for (let i = 1; i < z.length; i++)
      if (z[i] <= zq && z[i - 1] >= zq) return ys[i] + ((zq - z[i]) / (z[i - 1] - z[i])) * (ys[i - 1] - ys[i]);
    return Number.NaN;
  };
  let z50 = Number.NaN;
  for (let i = 1; i < z.length; i++)
    if (xHI[i - 1] >= 0.5 && xHI[i] < 0.5) {
      z50 = z[i - 1] + ((0.5 - xHI[i - 1]) / (xHI[i] - xHI[i - 1])) * (z[i] - z[i - 1]);
      break;
    }
  const endIndex = Array.from(xHI).findIndex((x) => x < 0.01);
  let trough = 0;
  for (let i = 0; i < z.length; i++) if (meanTb[i] < meanTb[trough]) trough = i;
  const m = mid as unknown as { xHI: number; z: number; spectrum: PowerSpectrum };
  const inBand = Array.from(m.spectrum.k)
    .map((k, i) => [k, m.spectrum.delta2[i]])
    .filter(([k]) => k >= 0.1 && k <= 0.5);
  const d2Mean = inBand.reduce((a, [, d]) => a + d, 0) / inBand.length;
  const rows: Array<[string, number, string, boolean]> = [
    ['reionisation midpoint z50', z50, 'Planck18 7.7 ± 0.7 (proto 7.17)', z50 >= 7.0 && z50 <= 8.4],
    ['end (x_HI < 0.01) z', z[endIndex], '≈ 5.3–6 (proto ≈ 5.3)', z[endIndex] >= 5.3 && z[endIndex] <= 6.5],
    ['x_HI(z = 5.9)', at(5.9, xHI), '≤ 0.06 + 0.05 (McGreer+15)', at(5.9, xHI) <= 0.16],
    ['Thomson τ_e', cone.tau, '0.054 ± 0.007 (Planck18)', cone.tau >= 0.047 && cone.tau <= 0.065],
    [
      'trough δT_b [mK]',
      meanTb[trough],
      '−100…−200 (lit.), proto −148 ± 25%',
      meanTb[trough] <= -111 && meanTb[trough] >= -185,
    ],
    ['trough redshift', z[trough], '14–20 (lit.), proto 15.5', z[trough] >= 14 && z[trough] <= 20],
    [`δT_b(z = ${z[0].toFixed(1)}) [mK]`, meanTb[0], '−6…−10 (21cmFAST)', meanTb[0] <= -6 && meanTb[0] >= -10],
    [
      `Δ²(0.1–0.5/Mpc) at x_HI=${m.xHI.toFixed(2)} [mK²]`,
      d2Mean,
      '≈ 10–30 (Lidz+08), proto 4–24',
      d2Mean >= 3 && d2Mean <= 60,
    ],
  ];
  console.log('\nValidation at the default size (fiducial, CDM):');
  for (const [name, value, target, ok] of rows)
    console.log(
      `  ${name.padEnd(40)} ${value.toFixed(4).padStart(10)}   target ${target.padEnd(36)} ${ok ? 'ok' : 'OUT'}`,
    );
  console.log(`  Δ² by k: ${inBand.map(([k, d]) => `${k.toFixed(2)}: ${d.toFixed(1)}`).join(', ')}`);
  return {
    z50,
    zEnd: z[endIndex],
    xHI59: at(5.9, xHI),
    tau: cone.tau,
    troughTb: meanTb[trough],
    troughZ: z[trough],
    tbHighZ: meanTb[0],
    delta2Mid: d2Mean,
    passed: rows.filter((r) => r[3]).length,
    checks: rows.length,
  };
}

async function main(): Promise<void> {
  console.log(
    `Simulator benchmark (Node ${process.version}, ${quick ? 'quick' : 'full'}); wall times on a shared machine.`,
  );
  const fftSizes = quick ? [32, 64] : [32, 64, 128];
  const fftRows: Record<string, Record<string, number | null>> = {};
  const reference = numpyFft(fftSizes);
  console.log('\n3D real FFT pair (r2c + c2r), median ms:');
  for (const n of fftSizes) {
    const reps = n >= 128 ? 3 : 9;
    const kiss = await timeFft('kissfft', n, reps);
    const fftjs = await timeFft('fftjs', n, n >= 128 ? 2 : reps);
    fftRows[n] = { kissfft: kiss, fftjs, numpy: reference?.[n] ?? null, fftjsOverKiss: fftjs / kiss };
    console.log(
      `  N=${n}: kissfft-wasm ${kiss.toFixed(1)}  fft.js ${fftjs.toFixed(1)}  (fft.js/kissfft ${(fftjs / kiss).toFixed(2)}×)` +
        `  numpy ${reference?.[n]?.toFixed(1) ?? 'n/a'}${reference?.[n] ? `  (kissfft/numpy ${(kiss / reference[n]).toFixed(2)}×)` : ''}`,
    );
  }

  console.log(
    "\nOne coeval box (seconds): tables, ICs, Zel'dovich+FFT, Ts shells, Ts step (40 shells), excursion set (ΔR 1.1):",
  );
  const scaling: Record<number, Record<string, number>> = {};
  for (const [n, box] of (quick
    ? [
        [32, 100],
        [64, 200],
      ]
    : [
        [32, 100],
        [64, 200],
        [128, 200],
      ]) as Array<[number, number]>) {
    scaling[n] = await coevalScaling(n, box);
    const s = scaling[n];
    console.log(
      `  ${n}³/${box} Mpc: ${Object.entries(s)
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join('  ')}  total ${Object.values(s)
        .reduce((a, b) => a + b, 0)
        .toFixed(2)}`,
    );
  }

  const cones = quick ? 2 : 4;
  const indices = Array.from({ length: cones }, (_, i) => i);
  const preset = simulatorPresets.default;
  console.log(
    `\nDefault preset (${preset.n}³, ${preset.boxMpc} Mpc, nLos ${preset.nLos}, zstep ${preset.zStepFactor}): ${cones} dataset-like cones`,
  );
  const one = await conesWithWorkers(1, indices);
  const two = await conesWithWorkers(2, indices);
  const perConeOne = one.wall / cones;
  const perConeTwo = two.wall / cones;
  console.log(
    `  1 worker : ${one.wall.toFixed(1)} s wall, ${perConeOne.toFixed(2)} s per cone (per-cone ${one.perCone.map((t) => t.toFixed(2)).join(', ')})`,
  );
  console.log(
    `  2 workers: ${two.wall.toFixed(1)} s wall, ${perConeTwo.toFixed(2)} s per cone effective (speed-up ${(one.wall / two.wall).toFixed(2)}×)`,
  );
  const cpuPerCone = one.cpu / cones;
  console.log(
    `  CPU time per cone: ${cpuPerCone.toFixed(2)} s (1 worker), ${(two.cpu / cones).toFixed(2)} s (2 workers)`,
  );
  console.log(
    `  projected 36-cone quickstart set on 2 workers: ${(36 * perConeTwo).toFixed(0)} s measured here; ` +
      `${((36 * cpuPerCone) / 2).toFixed(0)} s on two otherwise idle cores (from CPU time)`,
  );

  const validation = await validationReport();
  console.log(
    JSON.stringify({
      bench: 'simulate',
      node: process.version,
      fftMs: fftRows,
      coevalSeconds: scaling,
      defaultPreset: {
        cones,
        cpuSecondsPerCone: one.cpu / cones,
        secondsPerConeOneWorker: perConeOne,
        secondsPerConeTwoWorkers: perConeTwo,
        speedup: one.wall / two.wall,
        projected36ConesSeconds: 36 * perConeTwo,
        projected36ConesIdleTwoCores: (36 * (one.cpu / cones)) / 2,
      },
      validation,
    }),
  );
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  workerMain().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
