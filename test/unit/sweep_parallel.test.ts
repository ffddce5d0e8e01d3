// How many runs of a local sweep run at once (sidecar/sweeps/parallel_runs.ts): K from the cores, the
// free memory and the number of runs, unless asked for; the threads per run; and the sentence that
// says how K was chosen. Also the choice of executor (the sweep file's unless overridden).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../schemas/resolve_config';
import { baseRunBytes, chooseParallel, memoryPerRun } from '../../sidecar/sweeps/parallel_runs';
import { chooseExecutorKind } from '../../sidecar/sweeps/choose_executor';
import { tinyConfig } from '../integration/train_fixture';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const cases: Array<
  [string, Parameters<typeof chooseParallel>[0], { parallel: number; threads: number; reason: RegExp }]
> = [
  [
    'cores bound K when memory is plentiful',
    { requested: null, cores: 8, freeMemoryBytes: 64 * GiB, perRunBytes: 600 * MiB, runs: 20 },
    {
      parallel: 8,
      threads: 1,
      reason:
        /^8 runs at once \(the least of 8 cores, memory for 87 \(64\.0 GiB free, about 600 MiB a run\), 20 runs to do\), 1 thread each/,
    },
  ],
  [
    'memory bounds K: 80 % of the free memory over the memory of a run',
    { requested: null, cores: 16, freeMemoryBytes: 4 * GiB, perRunBytes: GiB, runs: 20 },
    { parallel: 3, threads: 5, reason: /^3 runs at once .*memory for 3 \(4\.0 GiB free, about 1024 MiB a run\)/ },
  ],
  [
    'fewer runs than cores',
    { requested: null, cores: 8, freeMemoryBytes: 64 * GiB, perRunBytes: 600 * MiB, runs: 2 },
    { parallel: 2, threads: 4, reason: /2 runs to do/ },
  ],
  [
    'no memory for even one run still runs one',
    { requested: null, cores: 4, freeMemoryBytes: 100 * MiB, perRunBytes: GiB, runs: 4 },
    { parallel: 1, threads: 4, reason: /^1 run at once .*4 threads each/ },
  ],
  [
    'asked for: K as asked, threads split, whoever asked named',
    { requested: { value: 3, source: '--parallel' }, cores: 2, freeMemoryBytes: GiB, perRunBytes: GiB, runs: 10 },
    { parallel: 3, threads: 1, reason: /^3 runs at once, as --parallel sets, 1 thread each$/ },
  ],
];

for (const [name, input, expected] of cases) {
  test(`chooseParallel: ${name}`, () => {
    const choice = chooseParallel(input);
    assert.equal(choice.parallel, expected.parallel);
    assert.equal(choice.threads, expected.threads);
    assert.match(choice.reason, expected.reason);
  });
}

test('memoryPerRun: the base of a process plus twice the training memory of the estimate', () => {
  const config = resolveConfig(tinyConfig());
  const bytes = memoryPerRun(config, '/nowhere/tiny.l3m.json');
  assert.ok(bytes > baseRunBytes && bytes < baseRunBytes + 10 * MiB, String(bytes));
  const wider = resolveConfig(
    tinyConfig({
      backbone: {
        architecture: {
          ...(tinyConfig().backbone as { architecture: object }).architecture,
          hidden_size: 512,
          intermediate_size: 2048,
          num_attention_heads: 8,
          num_key_value_heads: 2,
        },
      },
    }),
  );
  assert.ok(memoryPerRun(wider, '/nowhere/tiny.l3m.json') > bytes);
});

test("chooseExecutorKind: the sweep file's executor unless overridden; an unknown override is named", () => {
  assert.equal(chooseExecutorKind('local'), 'local');
  assert.equal(chooseExecutorKind('slurm', ''), 'slurm');
  assert.equal(chooseExecutorKind('local', 'slurm'), 'slurm');
  assert.equal(chooseExecutorKind('slurm', 'local'), 'local');
  assert.throws(() => chooseExecutorKind('local', 'pbs'), /Unknown executor "pbs"; expected "local" or "slurm"/);
});
