// Driver of one lightcone simulation (docs/simulator.md#pipeline): initial conditions once, then for every node
// from high to low redshift the Zel'dovich density, spin temperature, ionisation and brightness
// temperature, interpolated into the lightcone as they come.
import type { AstroParams } from '../parameters';
import { ALPHA_B_10K } from './constants';
import { Cosmology } from './cosmology';
import { createFft3, type Fft3, type FftBackendName } from './fft';
import { HaloModel } from './hmf';
import { generateInitialConditions } from './ics';
import { IonizationSolver, filterRadii } from './ionize';
import { makeKGrid } from './kspace';
import { LightconeAssembler, nodeRedshifts } from './lightcone';
import { thomsonOpticalDepth } from './observables';
import { INITIAL_REDSHIFT, velocityGradient, zeldovichDensity } from './perturb';
import { resolveSize } from './presets';
import { Rng } from './rng';
import { SpinTemperature } from './spintemp';
import { brightnessTemperature } from './tb';
import type { Lightcone, SimulateOptions } from './types';

/** One node's coeval boxes, handed to `onNode` (tests and the validation report use them). */
export interface NodeSnapshot {
  z: number;
  xHI: Float32Array;
  deltaNl: Float32Array;
  brightness: Float32Array;
  ts: Float32Array;
  tk: Float32Array;
  n: number;
  boxMpc: number;
  fft: Fft3;
}

export interface SimulateInternals {
  /** FFT backend (default 'auto': kissfft-wasm, fft.js fallback). */
  fftBackend?: FftBackendName | 'auto';
  /** Called after every node with its coeval boxes (views valid only during the call). */
  onNode?: (snapshot: NodeSnapshot) => void;
}

/** Physical validity of the six parameters; mWDM = Infinity means cold dark matter. */
export function checkParams(params: AstroParams): void {
  const rules: Array<[keyof AstroParams, (v: number) => boolean, string]> = [
    ['mWDM', (v) => v > 0.05, 'a WDM mass > 0.05 keV (Infinity for cold dark matter)'],
    ['omegaM', (v) => Number.isFinite(v) && v >= 0.1 && v <= 0.6, 'Ω_m in [0.1, 0.6] (dataset prior 0.2–0.4)'],
    ['E0', (v) => Number.isFinite(v) && v >= 100 && v < 2000, 'E_0 in [100, 2000) eV (21cmFAST NU_X_THRESH)'],
    ['log10LX', (v) => Number.isFinite(v) && v >= 30 && v <= 46, 'log10 L_X in [30, 46]'],
    ['log10Tvir', (v) => Number.isFinite(v) && v >= 3.5 && v <= 6.5, 'log10 T_vir in [3.5, 6.5]'],
    ['zeta', (v) => Number.isFinite(v) && v > 0 && v <= 1e4, 'ζ in (0, 10⁴]'],
  ];
  for (const [name, ok, expected] of rules) {
    const value = params[name];
    if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) {
      throw new Error(`simulateLightcone: parameter '${name}' = ${value} is out of range; expected ${expected}`);
    }
  }
}

export async function simulateLightcone(
  params: AstroParams,
  options: SimulateOptions & SimulateInternals,
): Promise<Lightcone> {
  checkParams(params);
  if (!Number.isFinite(options.seed))
    throw new Error(`simulateLightcone: seed must be a finite number, got ${options.seed}`);
  const size = resolveSize(options.size);
  const { n, boxMpc, nLos, zMin, zMax } = size;
  const cell = boxMpc / n;
  const progress = options.onProgress ?? (() => {});
  progress(0, 'cosmology');

  const cosmology = new Cosmology(params.omegaM);
  const halos = new HaloModel(cosmology, Number.isFinite(params.mWDM) ? params.mWDM : null, params.log10Tvir);
  const fft = await createFft3(n, options.fftBackend ?? 'auto');
  try {
    const grid = makeKGrid(n, boxMpc);
    progress(0.02, 'initial conditions');
    const ics = generateInitialConditions(halos.power, grid, fft, options.seed);
    const spin = new SpinTemperature(
      cosmology,
      halos,
      ics,
      grid,
      fft,
      size.tsShells,
      params.zeta,
      params.log10LX,
      params.E0,
    );
    const solver = new IonizationSolver(cosmology, halos, grid, fft, new Rng(options.seed, 2));
    const assembler = new LightconeAssembler(cosmology, n, nLos, cell, zMin);
    const radii = filterRadii(boxMpc, n, size.deltaRFactor, size.clumping);
    const nodes = nodeRedshifts(zMin, Math.max(zMax, assembler.farRedshift), size.zStepFactor);

    const total = n * n * n;
    const deltaNl = new Float32Array(total);
    const deltaNlK = new Float32Array(2 * fft.halfLength);
    const scratchK = new Float32Array(2 * fft.halfLength);
    const dvdz = new Float32Array(total);
    const xHI = new Float32Array(total);
    const recombinations = new Float32Array(total);
    const brightness = new Float32Array(total);
    const history = {
      z: Float64Array.from(nodes),
      xHI: new Float64Array(nodes.length),
      meanTb: new Float64Array(nodes.length),
      meanTs: new Float64Array(nodes.length),
      meanTk: new Float64Array(nodes.length),
    };
    const growthInit = cosmology.growth(INITIAL_REDSHIFT);

    for (let i = 0; i < nodes.length; i++) {
      const z = nodes[i];
      progress(0.05 + (0.95 * i) / nodes.length, `node z=${z.toFixed(2)}`);
      const growth = cosmology.growth(z);
      zeldovichDensity(ics, n, cell, growth, growthInit, deltaNl);
      fft.forward(deltaNl, deltaNlK);
      velocityGradient(grid, fft, deltaNlK, cosmology.dGrowthDt(z) / growth, scratchK, dvdz);
      spin.step(z, zMax);
      const { ts, tk, xe } = spin.state;
      solver.solve({ z, zeta: params.zeta, deltaNl, deltaNlK, recombinations, xe, radii }, xHI);
      history.meanTb[i] = brightnessTemperature(cosmology, { z, xHI, deltaNl, ts, dvdz }, brightness);
      history.xHI[i] = mean(xHI);
      history.meanTs[i] = mean(ts);
      history.meanTk[i] = mean(tk);
      assembler.addNode(z, brightness);
      options.onNode?.({ z, xHI, deltaNl, brightness, ts, tk, n, boxMpc, fft });
      // Uniform-clumping recombinations over the step to the next node ([APPROX], docs/simulator.md#ionisation).
      if (size.clumping > 0 && i + 1 < nodes.length) {
        const dt = Math.abs(cosmology.dtdz(z)) * (z - nodes[i + 1]);
        const rate = size.clumping * ALPHA_B_10K * cosmology.nH0 * (1 + z) ** 3 * dt;
        for (let q = 0; q < total; q++) recombinations[q] += rate * (1 + deltaNl[q]) * (1 - xHI[q]);
      }
      // Let the event loop breathe between nodes so that progress and cancellation can be delivered.
      if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    progress(1, 'done');
    return {
      brightness: assembler.brightness,
      shape: [n, n, nLos],
      redshifts: assembler.redshifts,
      params: { ...params },
      history,
      tau: thomsonOpticalDepth(cosmology, history.z, history.xHI),
    };
  } finally {
    fft.dispose();
  }
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (let q = 0; q < values.length; q++) sum += values[q];
  return sum / values.length;
}
