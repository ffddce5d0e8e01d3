// bench/paper_generation: the generation setups of the paper's Fig. 8 and Table 4 that exist without pretrained
// weights, at quickstart scale, as ONE sweep through `l3m sweep run` (the same machinery a user's sweep takes):
// a random Qwen2 backbone finetuned fully, with LoRA r = 8 and r = 2, and frozen, plus two reference networks
// trained from scratch (a narrower and a wider transformer), each repeated with seeds derived from one sweep
// seed. It prints the Table-4 style table (test next-patch sample MSE, mean ± σ over repeats, and the ratio to
// full finetuning of the random backbone with its standard error) beside the paper's ratios where known, and
// says whether LoRA r2 and frozen fall behind full finetuning as they do in the paper, whichever way it goes.
//
// The paper's Table 4 gives, for the random backbone, next-patch MSE ratios to full finetuning of 2.4 (LoRA
// r = 2) and 2.2 (frozen). Its other rows use the pretrained backbone or absolute MSEs on the real data, which
// have no counterpart at this scale, so they are left blank here rather than guessed.
//
//   npm run bench -- paper_generation [--repeats N] [--steps N] [--parallel K] [--keep] [--from DIR]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { estimateParameters, formatCount } from '../schemas/config_estimates';
import { backboneShape } from '../schemas/backbone_shape';
import { resolveConfig } from '../schemas/resolve_config';
import { groupTable, tableToMarkdown, formatRatio, type GroupTable } from '../sidecar/protocol/group_stats';
import { listSweeps, readSweepRuns } from '../sidecar/protocol/sweep_folder';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const repeats = Number(option('--repeats') ?? 3);
const steps = option('--steps') === undefined ? undefined : Number(option('--steps'));
const parallel = Number(option('--parallel') ?? 2);
/** A workspace kept by an earlier run (--keep): its runs are read again and nothing is trained. */
const from = option('--from');

/** The setups, as overrides of the quickstart generation config (hidden 32, 2 blocks, 4/2 heads, MLP 64). */
const setups: { name: string; overrides: Record<string, unknown>; paperRatio: number | null }[] = [
  { name: 'random-full', overrides: { 'backbone.finetune': 'full' }, paperRatio: 1 },
  { name: 'random-lora-r8', overrides: { 'backbone.finetune': 'lora', 'backbone.lora.rank': 8 }, paperRatio: null },
  { name: 'random-lora-r2', overrides: { 'backbone.finetune': 'lora', 'backbone.lora.rank': 2 }, paperRatio: 2.4 },
  { name: 'random-frozen', overrides: { 'backbone.finetune': 'frozen' }, paperRatio: 2.2 },
  {
    // Half the width, the same depth: about as many trainable weights as the frozen and LoRA setups keep.
    name: 'reference-small',
    overrides: {
      'backbone.finetune': 'full',
      'backbone.architecture.hidden_size': 16,
      'backbone.architecture.num_attention_heads': 2,
      'backbone.architecture.num_key_value_heads': 1,
      'backbone.architecture.intermediate_size': 32,
    },
    paperRatio: null,
  },
  {
    // Twice the width: more trainable weights than full finetuning of the random backbone.
    name: 'reference-large',
    overrides: {
      'backbone.finetune': 'full',
      'backbone.architecture.hidden_size': 64,
      'backbone.architecture.intermediate_size': 128,
    },
    paperRatio: null,
  },
];

interface RunResult {
  group: string;
  setup: string;
  repeat: number;
  mse: number;
  trainable: number;
  status: string;
}

async function main(): Promise<void> {
  const workspace = from ? resolve(from) : mkdtempSync(join(tmpdir(), 'l3m-paper-generation-'));
  const runsDir = join(workspace, 'runs');
  try {
    const sweep = from ? { status: null, wallSeconds: NaN } : runSweep(workspace, runsDir);
    const wallSeconds = sweep.wallSeconds;
    await report(runsDir, sweep.status, wallSeconds);
  } finally {
    if (args.includes('--keep') || from) console.error(`Kept ${workspace}`);
    else rmSync(workspace, { recursive: true, force: true });
  }
}

/** Writes the sweep file into `workspace` and runs it with `l3m sweep run`. */
function runSweep(workspace: string, runsDir: string): { status: number | null; wallSeconds: number } {
  {
    writeFileSync(join(workspace, 'package.json'), '{"private": true}\n'); // marks the workspace root
    copyFileSync(resolve('examples/quickstart-generation.l3m.json'), join(workspace, 'quickstart-generation.l3m.json'));
    const sweepPath = join(workspace, 'paper-generation.l3m-sweep.json');
    // A shorter run keeps the quickstart's schedule in proportion (warm-up 1/15, decay 1/3 of the steps).
    const stepOverride =
      steps === undefined
        ? {}
        : {
            'training.steps': steps,
            'training.schedule.warmup': Math.max(1, Math.round(steps / 15)),
            'training.schedule.decay': Math.round(steps / 3),
            'training.checkpoint_every': steps,
            'evaluation.every': steps,
          };
    writeFileSync(
      sweepPath,
      JSON.stringify(
        {
          name: 'paper-generation',
          base: 'quickstart-generation.l3m.json',
          repeats,
          seed: 0,
          setups: setups.map((s) => ({ name: s.name, overrides: { ...s.overrides, ...stepOverride } })),
          group_by: ['setup'],
          max_runs: 1000,
          executor: 'local',
          local: { parallel },
        },
        null,
        2,
      ),
    );
    const build = spawnSync(process.execPath, ['esbuild.mjs', '--no-typecheck'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed: ${build.stderr.slice(-2000)}`);
    console.log(
      `${setups.length} setups × ${repeats} repeats of the quickstart generation config${steps ? ` (${steps} steps)` : ''}, ` +
        `${parallel} at once, through l3m sweep run:`,
    );
    const started = performance.now();
    const sweep = spawnSync(
      process.execPath,
      ['dist/sidecar.js', 'sweep', 'run', sweepPath, '--runs-dir', runsDir, '--parallel', String(parallel), '--yes'],
      { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, L3M_RUNS_DIR: runsDir } },
    );
    const wallSeconds = (performance.now() - started) / 1000;
    console.log(`l3m sweep run exited with ${sweep.status} after ${(wallSeconds / 60).toFixed(1)} min`);
    return { status: sweep.status, wallSeconds };
  }
}

/** Reads every run's test next-patch MSE and prints the tables, the verdicts and the JSON line. */
async function report(runsDir: string, exitCode: number | null, wallSeconds: number): Promise<void> {
  {
    const listing = (await listSweeps(runsDir)).find((l) => l.kind === 'sweep');
    if (!listing || listing.kind !== 'sweep') throw new Error(`no sweep folder under ${runsDir}`);
    const runs: RunResult[] = [];
    for (const run of await readSweepRuns(runsDir, listing.sweep)) {
      const status = run.listing.kind === 'run' ? run.listing.record.status : 'unreadable';
      let mse = NaN;
      try {
        const evaluation = JSON.parse(readFileSync(join(run.runDir, 'eval', 'next_patch.json'), 'utf8')) as {
          model: { mse: number };
        };
        mse = evaluation.model.mse;
      } catch {
        // A run without its evaluation counts as a missing value (NaN), shown in the table's n.
      }
      const config = resolveConfig(JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')));
      const shape = backboneShape(config);
      runs.push({
        group: run.entry.group,
        setup: run.entry.setup ?? run.entry.group,
        repeat: run.entry.repeat,
        mse,
        trainable: shape ? estimateParameters(config, shape).trainable : NaN,
        status,
      });
    }
    const groups = setups.map((s) => {
      const members = runs.filter((r) => r.setup === s.name);
      return {
        group: members[0]?.group ?? `setup=${s.name}`,
        runs: members.map((r) => ({ x: [0], y: [r.mse] })),
      };
    });
    const reference = groups[0].group; // random-full, the first setup
    const table: GroupTable = groupTable(groups, 'next-patch sample MSE · test', 'next_patch_mse', reference);
    console.log(`\n${tableToMarkdown(table)}`);
    console.log('\n| setup | trainable parameters | runs completed | ratio to full (here) | ratio in the paper |');
    console.log('| --- | --- | --- | --- | --- |');
    const rows: Record<string, unknown>[] = [];
    for (const s of setups) {
      const row = table.rows[setups.indexOf(s)];
      const members = runs.filter((r) => r.setup === s.name);
      const done = members.filter((r) => r.status === 'completed').length;
      const ratio = row?.finalRatio ?? null;
      console.log(
        `| ${s.name} | ${formatCount(members[0]?.trainable ?? NaN)} | ${done}/${members.length} | ` +
          `${formatRatio(ratio, s.name === 'random-full')} | ${s.paperRatio === null ? '—' : s.paperRatio.toFixed(1)} |`,
      );
      rows.push({
        setup: s.name,
        trainable: members[0]?.trainable ?? null,
        completed: done,
        runs: members.length,
        mseMean: row?.final.mean ?? null,
        mseSd: row?.final.sd ?? null,
        n: row?.final.n ?? 0,
        ratio: ratio?.ratio ?? null,
        ratioSd: ratio?.sd ?? null,
        paperRatio: s.paperRatio,
      });
    }
    // Repeat r of every setup has the same seed (and the same test windows), so the per-repeat ratio to full
    // finetuning is a paired comparison, with less spread than the ratio of the group means.
    const paired = (name: string): { mean: number; sd: number; n: number } => {
      const ratios = runs
        .filter((r) => r.setup === name)
        .map((r) => r.mse / (runs.find((f) => f.setup === 'random-full' && f.repeat === r.repeat)?.mse ?? NaN))
        .filter(Number.isFinite);
      const n = ratios.length;
      const mean = ratios.reduce((a, b) => a + b, 0) / n;
      const sd = n > 1 ? Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
      return { mean, sd: sd / Math.sqrt(n), n };
    };
    const verdicts: Record<string, string> = {};
    for (const name of ['random-lora-r2', 'random-frozen']) {
      const ratio = table.rows[setups.findIndex((s) => s.name === name)]?.finalRatio;
      const pair = paired(name);
      const paper = setups.find((s) => s.name === name)!.paperRatio!;
      let verdict: string;
      if (!ratio || !Number.isFinite(ratio.ratio)) verdict = 'no ratio (runs missing)';
      else {
        // Judged on the paired ratio where it has an error; 2 standard errors from 1 count as a difference.
        const [value, error] = Number.isFinite(pair.sd) ? [pair.mean, pair.sd] : [ratio.ratio, ratio.sd];
        const z = error > 0 ? (value - 1) / error : NaN;
        const how = !Number.isFinite(z)
          ? 'cannot be judged (σ undefined with one run)'
          : z > 2
            ? 'falls behind full finetuning here'
            : z < -2
              ? 'does better than full finetuning here'
              : 'is level with full finetuning here, within the noise';
        verdict =
          `${how}: ratio of means ${ratio.ratio.toFixed(3)} ± ${ratio.sd.toFixed(3)}, paired per repeat ` +
          `${pair.mean.toFixed(3)} ± ${pair.sd.toFixed(3)} (n = ${pair.n}, ${Number.isFinite(z) ? z.toFixed(1) : '–'} σ from 1); ` +
          `the paper: ${paper.toFixed(1)}`;
      }
      verdicts[name] = verdict;
      console.log(`${name}: ${verdict}`);
    }
    console.log(
      JSON.stringify({
        bench: 'paper_generation',
        repeats,
        parallel,
        steps: steps ?? null,
        wallSeconds,
        exitCode,
        rows,
        verdicts,
      }),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
