// A sweep's run folders with known values, for the compare page's group views (browser test and
// e2e): seven generation runs in three groups (full × 3, lora-r2 × 3, frozen × 1) with run.json's
// sweep field and a sweep folder listing them, as a sweep writes them. Validation losses are small
// integers on step grids that differ in one run, with a NaN in another, so that each group's mean and
// σ at a step can be computed by hand (the tests state them); the test split holds next_patch_mse.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { writeMetrics, writeRun } from './run_fixtures';

export interface FixtureRun {
  setup: 'full' | 'lora-r2' | 'frozen';
  /** Validation loss by step; null is a non-finite value. */
  val: [number, number | null][];
  /** The test split's next-patch MSE; null is a non-finite value. */
  test: number | null;
}

// The tests that use these state the values they compute by hand from them.
export const sweepFixtureRuns: FixtureRun[] = [
  {
    setup: 'full',
    val: [
      [10, 4],
      [20, 3],
      [30, 2],
      [40, 1],
    ],
    test: 0.01,
  },
  {
    setup: 'full',
    val: [
      [10, 5],
      [20, 4],
      [30, 3],
      [40, 2],
    ],
    test: 0.012,
  },
  {
    setup: 'full',
    val: [
      [10, 6],
      [20, 2],
      [30, 4],
      [40, 3],
    ],
    test: 0.014,
  },
  {
    setup: 'lora-r2',
    val: [
      [10, 8],
      [20, 6],
      [30, 5],
      [40, 4],
    ],
    test: 0.024,
  },
  // Another validation interval: steps 10, 25, 40.
  {
    setup: 'lora-r2',
    val: [
      [10, 9],
      [25, 7],
      [40, 5],
    ],
    test: 0.03,
  },
  // A NaN at step 20 and in the test metric.
  {
    setup: 'lora-r2',
    val: [
      [10, 7],
      [20, null],
      [30, 6],
      [40, 5],
    ],
    test: null,
  },
  {
    setup: 'frozen',
    val: [
      [10, 10],
      [20, 9],
      [30, 8],
      [40, 7],
    ],
    test: 0.03,
  },
];

function records(run: FixtureRun): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (let step = 1; step <= 40; step++) {
    out.push({ step, epoch: 0, wall_time: step / 2, split: 'train', loss: 1 + 10 / step });
    const val = run.val.find(([s]) => s === step);
    if (val) out.push({ step, epoch: 0, wall_time: step / 2 + 0.1, split: 'val', loss: val[1] });
  }
  out.push({ step: 40, epoch: 0, wall_time: 21, split: 'test', next_patch_mse: run.test });
  return out;
}

export const sweepFixtureId = 'table4-small-20261123-100000-abcd';

/** The sweep's run folders under `runsDir` and its sweep folder, as a sweep writes them (run.json's sweep field, sweep.json). */
export function writeSweepFixture(runsDir: string): { runDirs: string[]; sweepDir: string } {
  const sweepId = sweepFixtureId;
  const repeatOf = (index: number) =>
    sweepFixtureRuns.slice(0, index).filter((g) => g.setup === sweepFixtureRuns[index].setup).length;
  const runDirs = sweepFixtureRuns.map((f, index) => {
    const repeat = repeatOf(index);
    const runDir = writeRun(
      runsDir,
      'generation',
      `20261123-1000${String(index).padStart(2, '0')}-000${index}`,
      'generation',
      {
        task: 'generation',
        backbone: { source: 'random', finetune: f.setup === 'lora-r2' ? 'lora' : f.setup },
        training: { seed: 100 + repeat },
      },
    );
    const record: unknown = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    const sweep = { id: sweepId, index, group: `setup=${f.setup}`, setup: f.setup, repeat };
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ ...(record as object), seed: 100 + repeat, sweep }));
    writeMetrics(runDir, records(f));
    return runDir;
  });
  const sweepDir = join(runsDir, '.sweeps', sweepId);
  mkdirSync(sweepDir, { recursive: true });
  writeFileSync(
    join(sweepDir, 'sweep.json'),
    JSON.stringify({
      id: sweepId,
      name: 'table4-small',
      sweepPath: join(runsDir, 'table4-small.l3m-sweep.json'),
      createdAt: '2026-11-23T10:00:00Z',
      executor: 'local',
      groupBy: ['setup'],
      repeats: 3,
      sweepSeed: 0,
      // Listed out of order: the expansion order is the index.
      runs: sweepFixtureRuns
        .map((f, index) => ({
          index,
          runDir: `generation/${runDirs[index].split('/').pop()}`,
          group: `setup=${f.setup}`,
          setup: f.setup,
          repeat: repeatOf(index),
          seed: 100 + repeatOf(index),
          overrides: {},
        }))
        .reverse(),
      version: '0.1.0',
    }),
  );
  return { runDirs, sweepDir };
}
