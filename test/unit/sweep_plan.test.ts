// Sweep files: their schema, their expansion (order, overrides, seeds, groups) and every check, on
// real files in a temporary folder with the quickstart regression config as the base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { planSweep, deriveSeed, type PlanResult, type SweepPlan } from '../../schemas/sweep_plan';
import { nearestPath, overridePaths } from '../../schemas/sweep_paths';
import { sweepSchema } from '../../schemas/sweep_schema';
import { formatDiagnostic } from '../../schemas/validate_config';
import type { SchemaNode } from '../../schemas/resolve_config';

const quickstart = join(import.meta.dirname, '..', '..', 'examples', 'quickstart-regression.l3m.json');

/** A folder with two copies of the quickstart regression config, a.l3m.json and b.l3m.json. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-sweep-'));
  copyFileSync(quickstart, join(dir, 'a.l3m.json'));
  copyFileSync(quickstart, join(dir, 'b.l3m.json'));
  return dir;
}

/** Writes `sweep` (an object, or text as is) to a sweep file in a fresh workspace and plans it. */
async function plan(sweep: unknown, dir = workspace()): Promise<PlanResult & { lines: string[] }> {
  const path = join(dir, 'test.l3m-sweep.json');
  writeFileSync(path, typeof sweep === 'string' ? sweep : JSON.stringify(sweep, null, 2));
  const result = await planSweep(path);
  return { ...result, lines: result.diagnostics.map((d) => formatDiagnostic(d, 'test.l3m-sweep.json')) };
}

function planned(result: PlanResult & { lines: string[] }): SweepPlan {
  assert.ok(result.plan, `expected a plan, got:\n${result.lines.join('\n')}`);
  return result.plan;
}

function errorsOf(result: { diagnostics: PlanResult['diagnostics']; lines: string[] }): string[] {
  return result.lines.filter((_, i) => result.diagnostics[i].severity === DiagnosticSeverity.Error);
}

test('runs expand base → setup → grid point (last key fastest) → repeat, with their overrides applied', async () => {
  const result = await plan({
    base: ['a.l3m.json', 'b.l3m.json'],
    repeats: 2,
    setups: [
      { name: 'full', overrides: { 'backbone.finetune': 'full' } },
      { name: 'lora', overrides: { 'backbone.finetune': 'lora', 'backbone.lora.rank': 2 } },
    ],
    grid: { 'training.lr': [0.001, 0.0003], 'training.batch_size': [8, 16, 32] },
  });
  const sweep = planned(result);
  assert.equal(sweep.runs.length, 2 * 2 * 6 * 2);
  assert.deepEqual(
    sweep.runs.map((r) => r.index),
    sweep.runs.map((_, i) => i),
  );
  const key = (i: number) => {
    const r = sweep.runs[i];
    return `${r.experiment} ${r.setup} ${JSON.stringify(r.overrides['training.lr'])} ${JSON.stringify(r.overrides['training.batch_size'])} ${r.repeat}`;
  };
  assert.equal(key(0), 'a full 0.001 8 0');
  assert.equal(key(1), 'a full 0.001 8 1');
  assert.equal(key(2), 'a full 0.001 16 0');
  assert.equal(key(6), 'a full 0.0003 8 0');
  assert.equal(key(12), 'a lora 0.001 8 0');
  assert.equal(key(24), 'b full 0.001 8 0');
  assert.equal(key(47), 'b lora 0.0003 32 1');

  const lora = sweep.runs[13];
  assert.deepEqual(lora.overrides, {
    'backbone.finetune': 'lora',
    'backbone.lora.rank': 2,
    'training.lr': 0.001,
    'training.batch_size': 8,
  });
  const config = lora.config as {
    backbone: { finetune: string; lora: { rank: number }; architecture: { hidden_size: number } };
    training: { lr: number; batch_size: number; seed: number; epochs: number };
  };
  assert.equal(config.backbone.finetune, 'lora');
  assert.equal(config.backbone.lora.rank, 2);
  assert.equal(config.backbone.architecture.hidden_size, 32, 'fields not overridden keep the base value');
  assert.equal(config.training.lr, 0.001);
  assert.equal(config.training.epochs, 60);
  assert.equal(config.training.seed, lora.seed);
  assert.equal(lora.base, join(dirname(result.path), 'a.l3m.json'));
  // Runs share nothing: changing one config leaves the others as planned.
  config.training.lr = 5;
  assert.equal((sweep.runs[12].config as { training: { lr: number } }).training.lr, 0.001);
  assert.deepEqual(sweep.groupBy, ['base', 'setup', 'training.lr', 'training.batch_size']);
  assert.equal(lora.group, 'base=a, setup=lora, training.lr=0.001, training.batch_size=8');
  assert.equal(sweep.maxRuns, 50);
  assert.equal(sweep.executor, 'local');
  assert.deepEqual(sweep.local, { parallel: null });
  assert.deepEqual(sweep.slurm, { array: true, extra: [], shared_dir: null });
  assert.equal(sweep.name, 'test');
});

test('repeat r has the same seed in every setup and grid point, and different repeats differ', async () => {
  const sweep = planned(
    await plan({
      base: 'a.l3m.json',
      repeats: 3,
      seed: 7,
      setups: [
        { name: 'x', overrides: { 'training.lr': 0.01 } },
        { name: 'y', overrides: { 'training.lr': 0.02 } },
      ],
      grid: { 'training.batch_size': [8, 16] },
    }),
  );
  for (const run of sweep.runs) {
    assert.equal(run.seed, deriveSeed(7, run.repeat));
    assert.equal((run.config as { training: { seed: number } }).training.seed, run.seed);
  }
  const seeds = [0, 1, 2].map((r) => deriveSeed(7, r));
  assert.equal(new Set(seeds).size, 3);
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
  // The first four bytes of sha256("0:0"), big-endian: fixed, so a sweep replays on any machine.
  assert.equal(deriveSeed(0, 0), 2893166218);
  assert.notEqual(deriveSeed(8, 0), deriveSeed(7, 0));
  assert.equal(sweep.sweepSeed, 7);
});

test('group_by names groups in its order; without it the default; with no grid or setups the sweep name', async () => {
  const explicit = planned(
    await plan({
      base: 'a.l3m.json',
      name: 'lr-scan',
      setups: [{ name: 's', overrides: {} }],
      grid: { 'training.lr': [0.001], 'training.batch_size': [4] },
      group_by: ['training.batch_size', 'setup'],
    }),
  );
  assert.equal(explicit.runs[0].group, 'training.batch_size=4, setup=s');
  assert.equal(explicit.name, 'lr-scan');
  const repeatsOnly = planned(await plan({ base: 'a.l3m.json', name: 'five', repeats: 5 }));
  assert.deepEqual(repeatsOnly.groupBy, []);
  assert.deepEqual(new Set(repeatsOnly.runs.map((r) => r.group)), new Set(['five']));
});

test('an override path that is not a config field is named by its JSON path, with the nearest valid path', async () => {
  const result = await plan(
    [
      '{',
      '  "base": "a.l3m.json",',
      '  "setups": [{ "name": "s", "overrides": { "backbone.finetun": "full" } }],',
      '  "grid": { "lr": [0.1], "foo.bar": [1] }',
      '}',
    ].join('\n'),
  );
  assert.equal(result.plan, null);
  const errors = errorsOf(result);
  assert.ok(
    errors.some(
      (l) =>
        l.startsWith('test.l3m-sweep.json:3:44: error: setups[0].overrides["backbone.finetun"]') &&
        l.includes('Did you mean "backbone.finetune"?'),
    ),
    errors.join('\n'),
  );
  assert.ok(
    errors.some(
      (l) => l.startsWith('test.l3m-sweep.json:4:13: error: grid.lr: "lr"') && /Did you mean "training.lr"/.test(l),
    ),
    errors.join('\n'),
  );
  assert.ok(
    errors.some((l) => l.startsWith('test.l3m-sweep.json:4:26: error: grid["foo.bar"]') && !/Did you mean/.test(l)),
    errors.join('\n'),
  );
  assert.equal(nearestPath('training.lrr'), 'training.lr');
  assert.equal(nearestPath('rank'), 'backbone.lora.rank');
  assert.equal(nearestPath('completely.unrelated.words'), undefined);
  assert.ok(overridePaths().includes('data.simulator.priors.zeta.max') && overridePaths().includes('head.solver'));
  assert.ok(!overridePaths().includes('$schema'));
});

test('training.seed cannot be overridden, by a setup, the grid or a whole training object', async () => {
  for (const sweep of [
    { base: 'a.l3m.json', setups: [{ name: 's', overrides: { 'training.seed': 3 } }] },
    { base: 'a.l3m.json', grid: { 'training.seed': [1, 2] } },
    { base: 'a.l3m.json', grid: { training: [{ lr: 0.1, seed: 1 }] } },
  ]) {
    const result = await plan(sweep);
    assert.equal(result.plan, null);
    assert.ok(
      errorsOf(result).some((l) => /sets training\.seed, which the sweep derives/.test(l)),
      result.lines.join('\n'),
    );
  }
});

test('every expanded config is validated: a bad value names its override, the runs it breaks and the experiment diagnostic', async () => {
  const result = await plan(
    [
      '{',
      '  "base": "a.l3m.json",',
      '  "repeats": 2,',
      '  "setups": [{ "name": "ok", "overrides": {} }, { "name": "bad", "overrides": { "backbone.architecture.num_key_value_heads": 3 } }],',
      '  "grid": { "training.lr": [0.001, -1] }',
      '}',
    ].join('\n'),
  );
  assert.equal(result.plan, null);
  const errors = errorsOf(result);
  assert.ok(
    errors.some(
      (l) =>
        l.startsWith(
          'test.l3m-sweep.json:4:126: error: setup "bad" override "backbone.architecture.num_key_value_heads" = 3 breaks runs 4–7',
        ) && /does not divide num_attention_heads/.test(l),
    ),
    errors.join('\n'),
  );
  assert.ok(
    errors.some(
      (l) =>
        l.startsWith('test.l3m-sweep.json:5:36: error: grid "training.lr" = -1 breaks runs 2–3, 6–7') &&
        /at training\.lr: Value is below the/.test(l),
    ),
    errors.join('\n'),
  );
});

test('bases must exist and be valid configs', async () => {
  const dir = workspace();
  writeFileSync(
    join(dir, 'broken.l3m.json'),
    JSON.stringify({ name: 'x', task: 'regression', backbone: { source: 'random' }, training: { batch_size: 0 } }),
  );
  const result = await plan({ base: ['a.l3m.json', 'missing.l3m.json', 'broken.l3m.json', '.'] }, dir);
  assert.equal(result.plan, null);
  const errors = errorsOf(result).join('\n');
  assert.match(errors, /base "missing\.l3m\.json" \(.*missing\.l3m\.json\) does not exist/);
  assert.match(
    errors,
    /base "broken\.l3m\.json" .* has 1 error, so no run of it can start; the first: .*broken\.l3m\.json:1:\d+: error: /,
  );
  assert.match(errors, /base "\." .* is a folder/);
});

test('group_by entries must be "base", "setup" or grid keys; setup names must be unique', async () => {
  const result = await plan({
    base: 'a.l3m.json',
    setups: [
      { name: 's', overrides: {} },
      { name: 's', overrides: {} },
    ],
    grid: { 'training.lr': [0.1] },
    group_by: ['base', 'training.batch_size'],
  });
  const errors = errorsOf(result).join('\n');
  assert.match(
    errors,
    /group_by\[1\] is "training\.batch_size"; expected "base", "setup" or a grid key \("training\.lr"\)/,
  );
  assert.match(errors, /setups\[1\]\.name "s" is also the name of setups\[0\]/);
  const noSetups = await plan({ base: 'a.l3m.json', group_by: ['setup'] });
  assert.match(errorsOf(noSetups).join('\n'), /group_by\[0\] is "setup", but the sweep has no setups/);
});

test('more runs than max_runs is a warning (the CLI needs --yes); past the expansion limit an error', async () => {
  const over = await plan({ base: 'a.l3m.json', repeats: 3, grid: { 'training.lr': [0.1, 0.2] }, max_runs: 4 });
  const sweep = planned(over);
  assert.equal(sweep.runs.length, 6);
  assert.deepEqual(errorsOf(over), []);
  assert.ok(
    over.lines.some((l) =>
      /warning: The sweep expands to 6 runs, more than max_runs \(4\): .*needs --yes.*editor asks/.test(l),
    ),
    over.lines.join('\n'),
  );
  const defaultLimit = await plan({ base: 'a.l3m.json', repeats: 51 });
  assert.ok(defaultLimit.plan);
  assert.ok(defaultLimit.lines.some((l) => /51 runs, more than max_runs \(50, the default\)/.test(l)));
  const huge = await plan({
    base: 'a.l3m.json',
    repeats: 1000,
    grid: { 'training.lr': Array.from({ length: 11 }, (_, i) => i + 1) },
  });
  assert.equal(huge.plan, null);
  assert.match(errorsOf(huge).join('\n'), /expands to 11,000 runs .* at most 10,000/);
});

test('schema errors, syntax errors, an empty or missing file come back as diagnostics', async () => {
  const unknownKey = await plan({ base: 'a.l3m.json', repeat: 3, executor: 'cloud' });
  assert.equal(unknownKey.plan, null);
  assert.ok(unknownKey.lines.some((l) => /Property repeat is not allowed/.test(l)));
  assert.ok(unknownKey.lines.some((l) => /Value is not accepted. Valid values: "local", "slurm"/.test(l)));
  assert.ok((await plan('{ "base": ')).lines.length > 0);
  assert.match((await plan('  ')).lines[0], /The sweep file is empty/);
  const missing = await planSweep(join(workspace(), 'nothing.l3m-sweep.json'));
  assert.match(formatDiagnostic(missing.diagnostics[0], 'x'), /Cannot read the sweep file .*nothing\.l3m-sweep\.json/);
});

test('local, slurm and executor sections reach the plan', async () => {
  const sweep = planned(
    await plan({
      base: 'a.l3m.json',
      executor: 'slurm',
      local: { parallel: 3 },
      slurm: {
        partition: 'debug',
        time: '00:20:00',
        cpus_per_task: 2,
        mem: '4G',
        array: false,
        extra: ['--qos=low'],
        shared_dir: 'shared',
      },
    }),
  );
  assert.equal(sweep.executor, 'slurm');
  assert.deepEqual(sweep.local, { parallel: 3 });
  assert.deepEqual(sweep.slurm, {
    partition: 'debug',
    time: '00:20:00',
    cpus_per_task: 2,
    mem: '4G',
    array: false,
    extra: ['--qos=low'],
    shared_dir: join(dirname(sweep.sweepPath), 'shared'),
  });
  const injected = await plan({ base: 'a.l3m.json', slurm: { extra: ['--qos=low\n#SBATCH --x'], partition: 'a b' } });
  assert.equal(injected.plan, null, 'an option on two lines would add an #SBATCH line the file does not show');
});

test('the sweep schema documents every field', () => {
  const visit = (node: SchemaNode, path: string): void => {
    for (const [name, sub] of Object.entries(node.properties ?? {})) {
      const here = path ? `${path}.${name}` : name;
      assert.ok(typeof sub.description === 'string' && sub.description.length > 15, `${here}: description`);
      assert.ok(
        typeof sub.markdownDescription === 'string' && sub.markdownDescription.length > 15,
        `${here}: markdownDescription`,
      );
      visit(sub, here);
      if (sub.items) visit(sub.items, `${here}[]`);
    }
    for (const branch of node.oneOf ?? []) visit(branch, path);
  };
  assert.equal(sweepSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  visit(sweepSchema, '');
  assert.deepEqual(sweepSchema.required, ['base']);
});

test('the example sweep plans to 2 setups × 2 repeats of the quickstart regression config', async () => {
  const example = join(import.meta.dirname, '..', '..', 'examples', 'quickstart-sweep.l3m-sweep.json');
  const result = await planSweep(example);
  assert.deepEqual(result.diagnostics, []);
  const sweep = result.plan;
  assert.ok(sweep);
  assert.deepEqual(
    sweep.runs.map((r) => `${r.experiment}/${r.setup}/${r.repeat}`),
    [
      'quickstart-regression/full/0',
      'quickstart-regression/full/1',
      'quickstart-regression/frozen/0',
      'quickstart-regression/frozen/1',
    ],
  );
});
