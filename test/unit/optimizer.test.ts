// Adam/AdamW against the update rule worked out by hand (torch.optim.AdamW conventions), group
// learning-rate ratios, weight-decay exclusions, and the state round trip that resume relies on.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamOptimizer } from '../../sidecar/train/adam_optimizer';
import { Dense } from '../../sidecar/tasks/shared/connectors';

before(async () => {
  await tf.setBackend('cpu');
});

function adamByHand(p: number, grads: number[], lr: number, wd: number, kind: 'adam' | 'adamw'): number {
  let m = 0;
  let v = 0;
  grads.forEach((g0, index) => {
    const t = index + 1;
    let g = g0;
    if (kind === 'adam') g += wd * p;
    else p *= 1 - lr * wd;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    p -= ((lr / (1 - 0.9 ** t)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
  });
  return p;
}

for (const kind of ['adam', 'adamw'] as const) {
  test(`${kind}: three steps match the hand-computed update`, () => {
    const w = tf.variable(tf.tensor1d([1.5]));
    const optimizer = new AdamOptimizer(
      [{ name: 'main', weights: [['main.weight', w]], lrRatio: 0.5, weightDecay: 0.1 }],
      { kind },
    );
    const grads = [0.3, -0.7, 0.2];
    for (const g of grads) {
      const gradient = tf.tensor1d([g]);
      optimizer.apply({ [w.name]: gradient }, 0.2);
      gradient.dispose();
    }
    const expected = adamByHand(1.5, grads, 0.1, 0.1, kind);
    assert.ok(Math.abs(w.dataSync()[0] - expected) < 1e-6, `${w.dataSync()[0]} vs ${expected}`);
    optimizer.dispose();
    w.dispose();
  });
}

test('ratio 0 leaves a group alone; noDecay exempts by checkpoint key', () => {
  // Variables named as production names them: TF.js ids, with the meaning only in the checkpoint key.
  const connector = new Dense('input_connector.0', 1, 1, 3);
  const frozen = new Dense('output_connector.0', 1, 1, 4);
  const [a0, bias0, frozen0] = [connector.weight, connector.bias, frozen.weight].map((v) => v.dataSync()[0]);
  assert.ok(
    !/bias/.test(connector.bias.name),
    `the bias variable is named "${connector.bias.name}", an id that says nothing about it`,
  );
  const optimizer = new AdamOptimizer(
    [
      { name: 'connector', weights: connector.namedWeights(), lrRatio: 1, weightDecay: 0.5 },
      { name: 'head', weights: frozen.namedWeights(), lrRatio: 0, weightDecay: 0.5 },
    ],
    { kind: 'adamw' },
  );
  const zero = tf.tensor1d([0]);
  const zeros = Object.fromEntries(
    [connector.weight, connector.bias, frozen.weight, frozen.bias].map((v) => [v.name, zero]),
  );
  optimizer.apply(zeros, 0.1);
  // Zero gradient: only decoupled decay moves the weight; the bias is exempt; the frozen group is untouched.
  assert.ok(Math.abs(connector.weight.dataSync()[0] - 0.95 * a0) < 1e-7);
  assert.equal(connector.bias.dataSync()[0], bias0);
  assert.equal(frozen.weight.dataSync()[0], frozen0);
  assert.deepEqual(optimizer.updatedVariables(), [connector.weight, connector.bias]);
  connector.dispose();
  frozen.dispose();
  zero.dispose();
  optimizer.dispose();
});

test('state round trip continues bit for bit', () => {
  const make = () => tf.variable(tf.tensor1d([0.5, -2, 3]));
  const gradsAt = (step: number) => tf.tensor1d([Math.sin(step), Math.cos(step), 0.1 * step]);
  const w1 = make();
  const o1 = new AdamOptimizer([{ name: 'g', weights: [['g.weight', w1]], lrRatio: 1, weightDecay: 0.01 }], {
    kind: 'adamw',
  });
  for (let s = 0; s < 6; s++) {
    const g = gradsAt(s);
    o1.apply({ [w1.name]: g }, 0.05);
    g.dispose();
  }

  const w2 = make();
  const o2 = new AdamOptimizer([{ name: 'g', weights: [['g.weight', w2]], lrRatio: 1, weightDecay: 0.01 }], {
    kind: 'adamw',
  });
  for (let s = 0; s < 3; s++) {
    const g = gradsAt(s);
    o2.apply({ [w2.name]: g }, 0.05);
    g.dispose();
  }
  const state = o2.getState();
  const saved = w2.clone();
  o2.dispose();
  const w3 = tf.variable(saved);
  // The state names variables by id; a new process has new ids, which the checkpoint maps by key.
  const renamed = new Map([...state.tensors].map(([k, t]) => [`${w3.name}${k.slice(w2.name.length)}`, t]));
  const o3 = new AdamOptimizer([{ name: 'g', weights: [['g.weight', w3]], lrRatio: 1, weightDecay: 0.01 }], {
    kind: 'adamw',
  });
  o3.setState({ step: state.step, tensors: renamed });
  for (let s = 3; s < 6; s++) {
    const g = gradsAt(s);
    o3.apply({ [w3.name]: g }, 0.05);
    g.dispose();
  }
  assert.deepEqual(Array.from(w3.dataSync()), Array.from(w1.dataSync()));
  tf.dispose([w1, w2, w3, saved, ...state.tensors.values()]);
  o1.dispose();
  o3.dispose();
});

test('setState refuses state of another model', () => {
  const w = tf.variable(tf.tensor1d([1]));
  const optimizer = new AdamOptimizer([{ name: 'g', weights: [['g.weight', w]], lrRatio: 1, weightDecay: 0 }], {
    kind: 'adam',
  });
  const t = tf.tensor1d([0]);
  assert.throws(
    () => optimizer.setState({ step: 1, tensors: new Map([['other/m', t]]) }),
    /no trained variable is named "other"/,
  );
  const wrong = tf.tensor1d([0, 0]);
  assert.throws(
    () =>
      optimizer.setState({
        step: 1,
        tensors: new Map([
          [`${w.name}/m`, wrong],
          [`${w.name}/v`, wrong],
        ]),
      }),
    /has shape \[2\]/,
  );
  tf.dispose([w, t, wrong]);
  optimizer.dispose();
});

test('a variable in two groups, or a key on two variables, is refused', () => {
  const w = tf.variable(tf.tensor1d([1]));
  assert.throws(
    () =>
      new AdamOptimizer(
        [
          { name: 'a', weights: [['a.weight', w]], lrRatio: 1, weightDecay: 0 },
          { name: 'b', weights: [['b.weight', w]], lrRatio: 1, weightDecay: 0 },
        ],
        { kind: 'adam' },
      ),
    /Weight "b.weight" \(variable .*\) is in both parameter groups "a" and "b"/,
  );
  const other = tf.variable(tf.tensor1d([1]));
  assert.throws(
    () =>
      new AdamOptimizer(
        [
          { name: 'a', weights: [['a.weight', w]], lrRatio: 1, weightDecay: 0 },
          { name: 'b', weights: [['a.weight', other]], lrRatio: 1, weightDecay: 0 },
        ],
        { kind: 'adam' },
      ),
    /Checkpoint key "a.weight" names two variables \(in parameter groups "a" and "b"\)/,
  );
  tf.dispose([w, other]);
});

test('no tensors leak across updates', () => {
  const w = tf.variable(
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
  );
  const optimizer = new AdamOptimizer([{ name: 'g', weights: [['g.weight', w]], lrRatio: 1, weightDecay: 0.1 }], {
    kind: 'adamw',
  });
  const g = tf.ones([2, 2]);
  optimizer.apply({ [w.name]: g }, 0.1);
  const before = tf.memory().numTensors;
  optimizer.apply({ [w.name]: g }, 0.1);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, g]);
  optimizer.dispose();
});
