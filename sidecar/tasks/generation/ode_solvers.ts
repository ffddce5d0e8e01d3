// ODE solvers for CFM sampling: integrate dx/dτ = f(τ, x) from τ = 0 (noise) to τ = 1 (sample).
// Fixed-step Euler (order 1), explicit midpoint (order 2) and classical RK4 (order 4) with a
// configurable number of steps, and the adaptive Dormand–Prince 5(4) pair `dopri5` that the
// reference samples with (torchdiffeq `odeint(method='dopri5', rtol=atol=1e-3)`, docs/paper-mapping.md#sampling).
// No maintained JavaScript ODE library integrates TF.js tensors (odex and ode45-cash-karp work on
// plain number arrays and would force a device round trip per stage), so dopri5 is written here from
// the Dormand & Prince (1980) tableau, with torchdiffeq's error norm (RMS of err / (atol + rtol·max|x|))
// and step controller (safety 0.9, factor clipped to [0.2, 10], exponent −1/5).
// The state is any tensor; every step runs inside tf.tidy, so only the current state stays alive.
// Integration is asynchronous because dopri5 reads its error estimate after each step, and the webgpu
// backend has no synchronous read under Node.
import * as tf from '@tensorflow/tfjs';

export type OdeSolverName = 'euler' | 'midpoint' | 'rk4' | 'dopri5';
export const odeSolverNames: readonly OdeSolverName[] = ['euler', 'midpoint', 'rk4', 'dopri5'];

/** The right-hand side f(τ, x); must return a new tensor of x's shape. */
export type OdeFunction = (tau: number, x: tf.Tensor) => tf.Tensor;

export interface OdeOptions {
  solver: OdeSolverName;
  /** Steps of a fixed-step solver; for dopri5 the first step is (t1 − t0) / steps. */
  steps: number;
  rtol?: number;
  atol?: number;
  t0?: number;
  t1?: number;
  /** dopri5: give up after this many attempted steps (a diverging field). */
  maxSteps?: number;
}

export interface OdeResult {
  /** The state at t1 (the caller owns it). */
  x: tf.Tensor;
  /** Evaluations of f, the cost measure. */
  evaluations: number;
  /** Accepted steps. */
  steps: number;
}

/** Integrates from t0 (default 0) to t1 (default 1) starting at x0 (not disposed). */
export async function integrate(f: OdeFunction, x0: tf.Tensor, options: OdeOptions): Promise<OdeResult> {
  const t0 = options.t0 ?? 0;
  const t1 = options.t1 ?? 1;
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw new Error(`ODE solver ${options.solver}: steps must be an integer ≥ 1, got ${options.steps}.`);
  switch (options.solver) {
    case 'euler':
      return fixedStep(f, x0, t0, t1, options.steps, eulerStep, 1);
    case 'midpoint':
      return fixedStep(f, x0, t0, t1, options.steps, midpointStep, 2);
    case 'rk4':
      return fixedStep(f, x0, t0, t1, options.steps, rk4Step, 4);
    case 'dopri5':
      return dopri5(f, x0, t0, t1, options);
    default:
      throw new Error(`Unknown ODE solver "${String(options.solver)}"; choose one of ${odeSolverNames.join(', ')}.`);
  }
}

type Step = (f: OdeFunction, t: number, x: tf.Tensor, h: number) => tf.Tensor;

function fixedStep(
  f: OdeFunction,
  x0: tf.Tensor,
  t0: number,
  t1: number,
  steps: number,
  step: Step,
  stages: number,
): OdeResult {
  const h = (t1 - t0) / steps;
  let x = tf.clone(x0);
  for (let i = 0; i < steps; i++) {
    const previous = x;
    x = tf.tidy(() => step(f, t0 + i * h, previous, h));
    previous.dispose();
  }
  return { x, evaluations: steps * stages, steps };
}

const eulerStep: Step = (f, t, x, h) => tf.add(x, tf.mul(f(t, x), h));

const midpointStep: Step = (f, t, x, h) => {
  const half = tf.add(x, tf.mul(f(t, x), h / 2));
  return tf.add(x, tf.mul(f(t + h / 2, half), h));
};

const rk4Step: Step = (f, t, x, h) => {
  const k1 = f(t, x);
  const k2 = f(t + h / 2, tf.add(x, tf.mul(k1, h / 2)));
  const k3 = f(t + h / 2, tf.add(x, tf.mul(k2, h / 2)));
  const k4 = f(t + h, tf.add(x, tf.mul(k3, h)));
  return tf.add(x, tf.mul(tf.addN([k1, tf.mul(k2, 2), tf.mul(k3, 2), k4]), h / 6));
};

// Dormand–Prince 5(4) (Hairer, Nørsett & Wanner, Solving ODEs I, Table 5.2; torchdiffeq dopri5.py).
const dpC = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const dpA: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** Fifth-order weights (= the last row of A: first same as last) minus the embedded fourth-order ones. */
const dpErrorWeights = [
  35 / 384 - 5179 / 57600,
  0,
  500 / 1113 - 7571 / 16695,
  125 / 192 - 393 / 640,
  -2187 / 6784 + 92097 / 339200,
  11 / 84 - 187 / 2100,
  -1 / 40,
];

async function dopri5(f: OdeFunction, x0: tf.Tensor, t0: number, t1: number, options: OdeOptions): Promise<OdeResult> {
  const rtol = options.rtol ?? 1e-3;
  const atol = options.atol ?? 1e-3;
  const maxSteps = options.maxSteps ?? 10000;
  if (!(rtol > 0) || !(atol > 0))
    throw new Error(`dopri5: rtol and atol must be positive, got rtol=${rtol}, atol=${atol}.`);
  let t = t0;
  let h = (t1 - t0) / options.steps;
  let x = tf.clone(x0);
  let k1 = tf.tidy(() => f(t, x));
  let evaluations = 1;
  let accepted = 0;
  let attempts = 0;
  while (t < t1 - 1e-12 * Math.abs(t1 - t0)) {
    if (++attempts > maxSteps) {
      tf.dispose([x, k1]);
      throw new Error(
        `dopri5 took more than ${maxSteps} steps between τ = ${t0} and ${t1} (at τ = ${t}); the velocity field is too stiff or diverging. Use a fixed-step solver or looser rtol/atol.`,
      );
    }
    h = Math.min(h, t1 - t);
    const stepH = h;
    const { next, k7, ratio } = tf.tidy(() => {
      const k = [k1];
      for (let s = 1; s < 7; s++) {
        const increment = tf.addN(dpA[s].map((a, j) => tf.mul(k[j], a * stepH)).filter((_, j) => dpA[s][j] !== 0));
        k.push(f(t + dpC[s] * stepH, tf.add(x, increment)));
      }
      // The seventh stage is evaluated at the fifth-order solution (A's last row = b), which is that solution's slope (FSAL).
      const y5 = tf.add(x, tf.addN(dpA[6].map((a, j) => tf.mul(k[j], a * stepH)).filter((_, j) => dpA[6][j] !== 0)));
      const error = tf.addN(
        dpErrorWeights.map((w, j) => tf.mul(k[j], w * stepH)).filter((_, j) => dpErrorWeights[j] !== 0),
      );
      const scale = tf.add(atol, tf.mul(rtol, tf.maximum(tf.abs(x), tf.abs(y5))));
      const rms = tf.sqrt(tf.mean(tf.square(tf.div(error, scale))));
      return { next: y5, k7: k[6], ratio: rms };
    });
    evaluations += 6;
    let errorRatio: number;
    try {
      errorRatio = (await ratio.data())[0];
    } catch (error) {
      tf.dispose([x, k1, next, k7]);
      throw error;
    } finally {
      ratio.dispose();
    }
    if (!Number.isFinite(errorRatio)) {
      tf.dispose([x, k1, next, k7]);
      throw new Error(
        `dopri5: the error estimate became ${errorRatio} at τ = ${t}; the velocity field produced non-finite values.`,
      );
    }
    if (errorRatio <= 1) {
      t += stepH;
      accepted++;
      tf.dispose([x, k1]);
      x = next;
      k1 = k7;
    } else {
      tf.dispose([next, k7]);
    }
    const factor = errorRatio === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * errorRatio ** -0.2));
    h = stepH * factor;
  }
  k1.dispose();
  return { x, evaluations, steps: accepted };
}
