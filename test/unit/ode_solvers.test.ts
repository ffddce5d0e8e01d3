// The ODE solvers on dx/dt = x·cos(t), x(0) = 1, whose solution is exp(sin t): the error at t = 1 must
// shrink with the step size at each method's order (1, 2, 4), and dopri5 must meet its tolerance.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { integrate, type OdeSolverName } from '../../sidecar/tasks/generation/ode_solvers';

before(async () => {
  await tf.setBackend('cpu');
});

const f = (t: number, x: tf.Tensor) => tf.mul(x, Math.cos(t));
const exact = Math.exp(Math.sin(1));

async function errorAt(solver: OdeSolverName, steps: number): Promise<number> {
  const x0 = tf.tensor1d([1, 2]);
  const { x } = await integrate(f, x0, { solver, steps });
  const [a, b] = x.dataSync();
  tf.dispose([x0, x]);
  return Math.max(Math.abs(a - exact), Math.abs(b - 2 * exact));
}

for (const [solver, order] of [
  ['euler', 1],
  ['midpoint', 2],
  ['rk4', 4],
] as const) {
  test(`${solver} converges at order ${order}`, async () => {
    // float32 limits how small the RK4 error can get, so its step sizes stay coarse.
    const steps = solver === 'rk4' ? [2, 4] : [16, 32];
    const [coarse, fine] = await Promise.all(steps.map((s) => errorAt(solver, s)));
    const observed = Math.log2(coarse / fine);
    assert.ok(
      Math.abs(observed - order) < 0.3,
      `${solver}: observed order ${observed.toFixed(2)} (errors ${coarse}, ${fine})`,
    );
  });
}

test('dopri5 meets its tolerance with few steps and tightens with it', async () => {
  for (const tol of [1e-3, 1e-5]) {
    const x0 = tf.tensor1d([1]);
    const result = await integrate(f, x0, { solver: 'dopri5', steps: 1, rtol: tol, atol: tol });
    const error = Math.abs(result.x.dataSync()[0] - exact);
    assert.ok(error < 10 * tol, `dopri5 rtol=${tol}: error ${error}`);
    assert.ok(result.steps >= 1 && (result.evaluations - 1) % 6 === 0 && result.evaluations >= 1 + 6 * result.steps);
    tf.dispose([x0, result.x]);
  }
});

test('solvers free every intermediate tensor and reject bad steps', async () => {
  const x0 = tf.tensor1d([1]);
  const before = tf.memory().numTensors;
  for (const solver of ['euler', 'midpoint', 'rk4', 'dopri5'] as const)
    (await integrate(f, x0, { solver, steps: 3 })).x.dispose();
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(integrate(f, x0, { solver: 'rk4', steps: 0 }), /steps must be an integer/);
  await assert.rejects(integrate(f, x0, { solver: 'heun' as OdeSolverName, steps: 2 }), /Unknown ODE solver "heun"/);
  x0.dispose();
});
