// The FFT wrapper against a direct 3D DFT, for both backends (docs/simulator.md#fft).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFft3, halfComplexLength } from '../../../sidecar/data/simulator/fft';
import { Rng } from '../../../sidecar/data/simulator/rng';

/** Direct DFT X[a,b,c] = Σ x e^{−2πi(ai+bj+ck)/N} on the half-complex index set. */
function directDft(input: Float32Array, n: number): Float64Array {
  const nh = n / 2 + 1;
  const out = new Float64Array(2 * n * n * nh);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++)
      for (let c = 0; c < nh; c++) {
        let re = 0;
        let im = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++)
            for (let k = 0; k < n; k++) {
              const phase = (-2 * Math.PI * (a * i + b * j + c * k)) / n;
              const v = input[(i * n + j) * n + k];
              re += v * Math.cos(phase);
              im += v * Math.sin(phase);
            }
        const idx = 2 * ((a * n + b) * nh + c);
        out[idx] = re;
        out[idx + 1] = im;
      }
  return out;
}

function randomField(n: number, seed: number): Float32Array {
  const field = new Float32Array(n * n * n);
  new Rng(seed).fillNormal(field);
  return field;
}

for (const [backend, n] of [
  ['kissfft', 8],
  ['fftjs', 8],
  ['kissfft', 6],
] as const) {
  test(`${backend} N=${n}: forward matches a direct DFT and inverse round-trips`, async () => {
    const fft = await createFft3(n, backend);
    try {
      assert.equal(fft.backend, backend);
      const input = randomField(n, 7);
      const spectrum = new Float32Array(2 * halfComplexLength(n));
      fft.forward(input, spectrum);
      const expected = directDft(input, n);
      let maxError = 0;
      let maxValue = 0;
      for (let i = 0; i < expected.length; i++) {
        maxError = Math.max(maxError, Math.abs(spectrum[i] - expected[i]));
        maxValue = Math.max(maxValue, Math.abs(expected[i]));
      }
      assert.ok(maxError / maxValue < 1e-5, `relative DFT error ${maxError / maxValue}`);
      const back = new Float32Array(n * n * n);
      const copy = Float32Array.from(spectrum);
      fft.inverse(spectrum, back);
      assert.deepEqual(spectrum, copy, 'inverse must not modify its input');
      for (let i = 0; i < back.length; i++) assert.ok(Math.abs(back[i] - input[i]) < 1e-4, `round trip at ${i}`);
    } finally {
      fft.dispose();
    }
  });
}

test('fft.js refuses a non-power-of-two size with a clear message', async () => {
  await assert.rejects(createFft3(6, 'fftjs'), /power of two.*got 6/);
});

test('wrong array sizes are reported with the expected lengths', async () => {
  const fft = await createFft3(8, 'kissfft');
  try {
    assert.throws(
      () => fft.forward(new Float32Array(10), new Float32Array(2 * halfComplexLength(8))),
      /expected a real array of 512/,
    );
  } finally {
    fft.dispose();
  }
});
