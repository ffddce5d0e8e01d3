// Labels of 21cmFAST files: each of the six parameters is taken from a file only where the file's source
// model gives it the paper's meaning, and otherwise the file is refused naming the parameter, the flag and
// its value, unless the config gives the value explicitly (a labels file or a fixed value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hdf5FilesSource } from '../../sidecar/data/hdf5_source';
import { readExplicitLabels } from '../../sidecar/data/label_source';
import { labelProvenance } from '../../sidecar/data/label_provenance';
import { openDataset } from '../../sidecar/data/dataset';
import { run as dataCommand } from '../../sidecar/cli/data';
import { parameterNames, type AstroParams, type ParameterName } from '../../sidecar/data/parameters';
import { resolveConfig } from '../../schemas/resolve_config';
import { writeV3, writeV4, type V3Options, type V4Options } from '../fixtures/hdf5_lightcones';

const dir = mkdtempSync(join(tmpdir(), 'l3m-h5labels-'));

const v3Values: AstroParams = { mWDM: 3.5, omegaM: 0.31, E0: 700, log10LX: 40.2, log10Tvir: 4.8, zeta: 55 };
const v4Values: Omit<AstroParams, 'mWDM'> = { omegaM: 0.25, E0: 500, log10LX: 40.5, log10Tvir: 4.69897, zeta: 30 };

interface Case {
  name: string;
  write: (path: string) => Promise<void>;
  /** Each refused parameter with the flag and value its message must name. */
  refused: Partial<Record<ParameterName, RegExp>>;
}

const v3 = (options: V3Options) => (path: string) => writeV3(path, options);
const v4 = (options: V4Options) => (path: string) => writeV4(path, options);

const cases: Case[] = [
  { name: 'v3 paper model (WDM cut-off on)', write: v3({}), refused: {} },
  {
    name: 'v3 without the WDM cut-off',
    write: v3({ globals: { P_CUTOFF: 0 } }),
    refused: { mWDM: /_globals@P_CUTOFF = false/ },
  },
  {
    name: 'v3 without _globals',
    write: v3({ globals: null }),
    refused: { mWDM: /_globals@P_CUTOFF is missing/ },
  },
  {
    name: 'v3 mass-dependent ζ',
    write: v3({ flags: { USE_MASS_DEPENDENT_ZETA: true } }),
    refused: {
      zeta: /flag_options@USE_MASS_DEPENDENT_ZETA = true/,
      log10Tvir: /flag_options@USE_MASS_DEPENDENT_ZETA = true/,
    },
  },
  {
    // 21cmFAST 3 turns mass-dependent ζ on itself with minihalos, while the file keeps the flag as passed.
    name: 'v3 minihalos',
    write: v3({ flags: { USE_MINI_HALOS: true, USE_MASS_DEPENDENT_ZETA: false } }),
    refused: { zeta: /flag_options@USE_MINI_HALOS = true/, log10Tvir: /flag_options@USE_MINI_HALOS = true/ },
  },
  {
    name: 'v3 minimum mass in mass',
    write: v3({ flags: { M_MIN_in_Mass: true } }),
    refused: { log10Tvir: /flag_options@M_MIN_in_Mass = true/ },
  },
  {
    name: 'v3 without spin temperature fluctuations',
    write: v3({ flags: { USE_TS_FLUCT: false } }),
    refused: { E0: /flag_options@USE_TS_FLUCT = false/, log10LX: /flag_options@USE_TS_FLUCT = false/ },
  },
  {
    name: 'v3 with a flag missing',
    write: v3({ flags: { USE_MASS_DEPENDENT_ZETA: undefined } }),
    refused: {
      zeta: /flag_options@USE_MASS_DEPENDENT_ZETA is missing/,
      log10Tvir: /flag_options@USE_MASS_DEPENDENT_ZETA is missing/,
    },
  },
  {
    name: 'v3 with a flag that is not a boolean',
    write: v3({ flags: { USE_MASS_DEPENDENT_ZETA: 'yes' } }),
    refused: {
      zeta: /flag_options@USE_MASS_DEPENDENT_ZETA = "yes", not a boolean/,
      log10Tvir: /flag_options@USE_MASS_DEPENDENT_ZETA = "yes", not a boolean/,
    },
  },
  {
    name: 'v4 CONST-ION-EFF (CDM)',
    write: v4({}),
    refused: { mWDM: /no warm-dark-matter model/ },
  },
  ...['E-INTEGRAL', 'L-INTEGRAL', 'DEXM-ESF', 'CHMF-SAMPLER'].map((model) => ({
    name: `v4 ${model}`,
    write: v4({ matter: { SOURCE_MODEL: model } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      zeta: new RegExp(`InputParameters/matter_options@SOURCE_MODEL = "${model}"`),
      log10Tvir: new RegExp(`InputParameters/matter_options@SOURCE_MODEL = "${model}"`),
    },
  })),
  {
    name: 'v4 minihalos',
    write: v4({ astroOptions: { USE_MINI_HALOS: true } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      zeta: /InputParameters\/astro_options@USE_MINI_HALOS = true/,
      log10Tvir: /InputParameters\/astro_options@USE_MINI_HALOS = true/,
    },
  },
  {
    // 21cmFAST 4's default: the minimum source mass is M_TURN, not T_vir.
    name: 'v4 CONST-ION-EFF with M_MIN_in_Mass',
    write: v4({ astroOptions: { M_MIN_in_Mass: true } }),
    refused: { mWDM: /no warm-dark-matter model/, log10Tvir: /astro_options@M_MIN_in_Mass = true/ },
  },
  {
    name: 'v4 without X-ray heating',
    write: v4({ astroOptions: { USE_X_RAY_HEATING: false } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      E0: /astro_options@USE_X_RAY_HEATING = false/,
      log10LX: /astro_options@USE_X_RAY_HEATING = false/,
    },
  },
  {
    name: 'v4 without spin temperature fluctuations',
    write: v4({ astroOptions: { USE_TS_FLUCT: false } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      E0: /astro_options@USE_TS_FLUCT = false/,
      log10LX: /astro_options@USE_TS_FLUCT = false/,
    },
  },
  {
    // 4.0 betas: no SOURCE_MODEL, mass-dependent ζ as a flag of astro_options.
    name: 'v4 beta, mass-independent ζ',
    write: v4({ matter: { SOURCE_MODEL: undefined }, astroOptions: { USE_MASS_DEPENDENT_ZETA: false } }),
    refused: { mWDM: /no warm-dark-matter model/ },
  },
  {
    name: 'v4 beta, mass-dependent ζ',
    write: v4({ matter: { SOURCE_MODEL: undefined }, astroOptions: { USE_MASS_DEPENDENT_ZETA: true } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      zeta: /InputParameters\/astro_options@USE_MASS_DEPENDENT_ZETA = true/,
      log10Tvir: /InputParameters\/astro_options@USE_MASS_DEPENDENT_ZETA = true/,
    },
  },
  {
    name: 'v4 with neither SOURCE_MODEL nor USE_MASS_DEPENDENT_ZETA',
    write: v4({ matter: { SOURCE_MODEL: undefined } }),
    refused: {
      mWDM: /no warm-dark-matter model/,
      zeta: /InputParameters\/matter_options@SOURCE_MODEL is missing/,
      log10Tvir: /InputParameters\/matter_options@SOURCE_MODEL is missing/,
    },
  },
];

const labels = (symbol: ParameterName) =>
  ({ mWDM: 'm_WDM', omegaM: 'Ω_m', E0: 'E_0', log10LX: 'log₁₀ L_X', log10Tvir: 'log₁₀ T_vir', zeta: 'ζ' })[symbol];

/** The values a test fixes for the parameters a file refuses. */
const expectedFixed: AstroParams = { mWDM: 9.5, omegaM: 0.3, E0: 1000, log10LX: 41, log10Tvir: 4.5, zeta: 100 };

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const [index, c] of cases.entries()) {
  test(`labels: ${c.name}: ${Object.keys(c.refused).join(', ') || 'every parameter'} ${Object.keys(c.refused).length ? 'refused' : 'mapped'}`, async () => {
    const file = join(dir, `case${index}.h5`);
    await c.write(file);
    const refused = parameterNames.filter((name) => c.refused[name]);
    const mapped = parameterNames.filter((name) => !c.refused[name]);
    const expected: AstroParams = c.name.startsWith('v4') ? { mWDM: NaN, ...v4Values } : v3Values;

    if (refused.length > 0) {
      // The file alone: refused, each refused parameter named with its flag, no mapped parameter named.
      await assert.rejects(new Hdf5FilesSource([file]).list(), (error: Error) => {
        assert.match(error.message, new RegExp(`case${index}\\.h5`));
        for (const name of refused) {
          const line = error.message.split('\n').find((l) => l.includes(`${labels(name)} (${name})`));
          assert.ok(line, `${name} is not named in:\n${error.message}`);
          assert.match(line, c.refused[name]!);
        }
        for (const name of mapped) assert.doesNotMatch(error.message, new RegExp(`\\(${escape(name)}\\)`));
        assert.match(error.message, /data\.files\.labels/);
        return true;
      });
    }

    // With the refused parameters given as fixed values, every other value comes from the file's attributes.
    const fixed = Object.fromEntries(refused.map((name) => [name, expectedFixed[name]]));
    const source = new Hdf5FilesSource([file], { labels: { fixed } });
    const [entry] = await source.list();
    for (const name of mapped) {
      assert.equal(entry.params[name], expected[name], name);
      assert.match(entry.provenance![name], /@/, `${name} from an attribute`);
    }
    for (const name of refused) {
      assert.equal(entry.params[name], fixed[name], name);
      assert.match(entry.provenance![name], /data\.files\.labels\.fixed/, name);
    }
    const record = await source.load(entry.id, { start: 0, end: 2 });
    assert.deepEqual(record.params, entry.params);
  });
}

test('labels: a labels file overrides the attributes, row by row, and must cover every file', async () => {
  const folder = join(dir, 'set');
  mkdirSync(folder);
  await writeV3(join(folder, 'a.h5'));
  await writeV4(join(folder, 'b.h5'), { matter: { SOURCE_MODEL: 'E-INTEGRAL' } });
  const labelsPath = join(dir, 'labels.json');
  writeFileSync(
    labelsPath,
    ['{', ' "a.h5": { "zeta": 99 },', ' "b.h5": { "m_wdm": 2.5, "zeta": 42, "log10_t_vir": 4.4 }', '}'].join('\n'),
  );
  const explicit = readExplicitLabels({ file: 'labels.json', fixed: {} }, dir);
  const entries = await new Hdf5FilesSource([join(folder, 'a.h5'), join(folder, 'b.h5')], {
    labels: explicit,
  }).list();
  assert.deepEqual(entries[0].params, { ...v3Values, zeta: 99 });
  assert.match(entries[0].provenance!.zeta, /labels\.json:2/);
  assert.equal(entries[0].provenance!.mWDM, '_globals@M_WDM');
  assert.deepEqual(entries[1].params, { ...v4Values, mWDM: 2.5, zeta: 42, log10Tvir: 4.4 });
  assert.match(entries[1].provenance!.mWDM, /labels\.json:3/);

  // A file the labels file does not list is refused, even where its attributes would do.
  await writeV3(join(folder, 'c.h5'));
  await assert.rejects(
    new Hdf5FilesSource([join(folder, 'a.h5'), join(folder, 'c.h5')], { labels: explicit }).list(),
    /c\.h5: the labels file .*labels\.json has no entry for "c\.h5"/,
  );
});

test('labels: a labels file that is missing, malformed or out of range is refused with its place', () => {
  const write = (text: string) => {
    writeFileSync(join(dir, 'bad.json'), text);
    return () => readExplicitLabels({ file: 'bad.json', fixed: {} }, dir);
  };
  assert.throws(() => readExplicitLabels({ file: 'absent.json', fixed: {} }, dir), /absent\.json: .*does not exist/);
  assert.throws(write('{ "a.h5": { "zeta": 10 '), /bad\.json:1:\d+: .*JSON/);
  assert.throws(write('[1, 2]'), /bad\.json:1:1: .*expected an object of lightcone file names/);
  assert.throws(write('{ "a.h5": { "zeta": 900 } }'), /bad\.json:1:\d+: "a\.h5" gives zeta = 900, outside \[10, 250\]/);
  assert.throws(
    write('{ "a.h5": { "ksi": 1 } }'),
    /bad\.json:1:\d+: "a\.h5" names "ksi", not a parameter; expected .*zeta/,
  );
  assert.throws(write('{ "a.h5": { "zeta": "30" } }'), /bad\.json:1:\d+: "a\.h5" gives zeta = "30", not a number/);
  // A parameter both fixed and in the labels file is ambiguous.
  writeFileSync(join(dir, 'both.json'), '{ "a.h5": { "zeta": 30 } }');
  assert.throws(
    () => readExplicitLabels({ file: 'both.json', fixed: { zeta: 40 } }, dir),
    /zeta is given twice: data\.files\.labels\.fixed\.zeta \(40\) and .*both\.json:1/,
  );
});

test('labels: a refused file stops the dataset before anything is trained', async () => {
  const folder = join(dir, 'refused');
  mkdirSync(folder);
  await writeV4(join(folder, 'cdm.h5'), { matter: { SOURCE_MODEL: 'E-INTEGRAL' } });
  const config = resolveConfig({
    name: 'x',
    task: 'regression',
    data: { source: 'files', files: { format: 'hdf5', path: folder } },
  });
  await assert.rejects(
    openDataset(config.data, { configDir: dir, cacheRoot: join(dir, 'cache') }),
    /cdm\.h5: .*ζ \(zeta\): InputParameters\/matter_options@SOURCE_MODEL = "E-INTEGRAL"/s,
  );
  const labelled = resolveConfig({
    name: 'x',
    task: 'regression',
    data: {
      source: 'files',
      files: { format: 'hdf5', path: folder, labels: { fixed: { m_wdm: 10, zeta: 30, log10_t_vir: 4.7 } } },
    },
  });
  const opened = await openDataset(labelled.data, { configDir: dir, cacheRoot: join(dir, 'cache') });
  assert.deepEqual(opened.ids, ['cdm.h5']);
  const [stored] = await opened.source.list();
  assert.deepEqual(stored.params, { ...v4Values, mWDM: 10, zeta: 30, log10Tvir: 4.7 });
  await opened.source.close();
});

test('a dataset whose lightcones differ in shape or resolution is refused, naming the first two that differ', async () => {
  const folder = join(dir, 'shapes');
  mkdirSync(folder);
  const fixed = { m_wdm: 10 };
  await writeV4(join(folder, 'a.h5'));
  await writeV4(join(folder, 'b.h5'));
  await writeV4(join(folder, 'c.h5'), { nx: 5, ny: 5 });
  await writeV4(join(folder, 'd.h5'), { nLos: 12 });
  const config = (path: string) =>
    resolveConfig({
      name: 'x',
      task: 'regression',
      data: { source: 'files', files: { format: 'hdf5', path, labels: { fixed } } },
    }).data;
  await assert.rejects(
    openDataset(config(folder), { configDir: dir, cacheRoot: join(dir, 'cache') }),
    /a\.h5 is 4×3×10 .* but c\.h5 is 5×5×10 .*; every lightcone of a dataset needs the same shape/,
  );
  const resolution = join(dir, 'resolution');
  mkdirSync(resolution);
  await writeV4(join(resolution, 'a.h5'));
  await writeV4(join(resolution, 'b.h5'), { boxLength: 300 });
  await assert.rejects(
    openDataset(config(resolution), { configDir: dir, cacheRoot: join(dir, 'cache') }),
    /a\.h5 has cells of 50 Mpc but b\.h5 has cells of 75 Mpc; every lightcone of a dataset needs the same resolution/,
  );
});

/** Runs `l3m data` with its output captured. */
async function l3mData(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => void out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => void err.push(parts.join(' '));
  try {
    return { code: await dataCommand(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('l3m data prints where each parameter came from; a refused file fails it with the reason', async () => {
  const root = join(dir, 'cli');
  mkdirSync(join(root, 'lcs'), { recursive: true });
  process.env.L3M_CACHE_DIR = join(root, 'cache');
  await writeV3(join(root, 'lcs', 'a.h5'));
  await writeV3(join(root, 'lcs', 'b.h5'));
  await writeV4(join(root, 'lcs', 'c.h5'), { matter: { SOURCE_MODEL: 'E-INTEGRAL' } });
  await writeV4(join(root, 'lcs', 'd.h5'), { matter: { SOURCE_MODEL: 'E-INTEGRAL' } });
  const cdm = { m_wdm: 10, zeta: 42, log10_t_vir: 4.4 };
  writeFileSync(
    join(root, 'labels.json'),
    JSON.stringify({ 'a.h5': {}, 'b.h5': { zeta: 60 }, 'c.h5': cdm, 'd.h5': cdm }, null, 1),
  );
  const config = (labels: object | undefined) => {
    const files = { format: 'hdf5', path: './lcs', transverse_cells: 4, ...(labels ? { labels } : {}) };
    writeFileSync(
      join(root, 'exp.l3m.json'),
      JSON.stringify({
        name: 'labels',
        task: 'regression',
        backbone: { source: 'random' },
        data: {
          source: 'files',
          files,
          splits: { validation_fraction: 0.25, test_fraction: 0.25, seed: 1 },
          preprocessing: { global_signal_tokens: 2 },
        },
      }),
    );
    return join(root, 'exp.l3m.json');
  };
  const refused = await l3mData([config(undefined), '--out', join(root, 'preview')]);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.err,
    /c\.h5: 3 parameters cannot be read .*\n.*m_WDM \(mWDM\): 21cmFAST 4\.0\.0 has no warm-dark-matter model/,
  );

  const shown = await l3mData([config({ file: 'labels.json' }), '--out', join(root, 'preview')]);
  assert.equal(shown.code, 0, shown.err);
  const labelsFile = escape(join(root, 'labels.json'));
  const section = shown.out.split('Where the labels come from (lightcones):\n')[1] ?? '';
  const line = (label: string) => section.split('\n').find((l) => l.trimStart().startsWith(label)) ?? '';
  assert.match(line('m_WDM'), new RegExp(`_globals@M_WDM \\(2\\), labels file ${labelsFile} \\(2\\)`));
  assert.match(line('Ω_m'), /cosmo_params@OMm \(2\), InputParameters\/cosmo_params@OMm \(2\)/);
  assert.match(line('ζ'), new RegExp(`labels file ${labelsFile} \\(3\\), astro_params@HII_EFF_FACTOR \\(1\\)`));
  const json = JSON.parse(
    (await l3mData([config({ file: 'labels.json' }), '--json', '--out', join(root, 'preview')])).out,
  ) as {
    labels: Record<ParameterName, { from: string; count: number }[]>;
  };
  assert.deepEqual(json.labels.E0, [
    { from: 'astro_params@NU_X_THRESH', count: 2 },
    { from: 'InputParameters/astro_params@NU_X_THRESH', count: 2 },
  ]);
  delete process.env.L3M_CACHE_DIR;
});

test('label provenance of sources that record none: the .npz label index by label_order, the .npy JSON, the simulator', () => {
  const entry = { id: 'x', shape: { nx: 2, ny: 2, nt: 2 }, params: v3Values };
  const npz = resolveConfig({
    name: 'x',
    task: 'regression',
    data: {
      source: 'files',
      files: { format: 'npz', label_order: ['m_wdm', 'omega_m', 'log10_l_x', 'e_0', 'log10_t_vir', 'zeta'] },
    },
  }).data;
  const fromNpz = labelProvenance([entry, entry], npz);
  assert.deepEqual(fromNpz.E0, [{ from: 'label[-3] of each .npz (data.files.label_order)', count: 2 }]);
  assert.deepEqual(fromNpz.mWDM, [{ from: 'label[-6] of each .npz (data.files.label_order)', count: 2 }]);
  const npy = resolveConfig({
    name: 'x',
    task: 'regression',
    data: { source: 'files', files: { format: 'npy' } },
  }).data;
  assert.deepEqual(labelProvenance([entry], npy).zeta, [{ from: '"zeta" of the .json beside each .npy', count: 1 }]);
  const simulator = resolveConfig({ name: 'x', task: 'regression' }).data;
  assert.match(labelProvenance([entry], simulator).omegaM[0].from, /simulator draws/);
});
