// The kill campaign: `l3m train` and `l3m resume` (the built sidecar, dist/sidecar.js) are SIGKILLed at
// points drawn from a seeded generator, while the run folder is being created, after a given step's
// metrics, at the n-th file event of a checkpoint write, and right after a `best` file lands, and the
// run is resumed after each kill until it completes, on the cpu and wasm backends. After every kill the
// runs folder must hold no unreadable run, no torn checkpoint (each checkpoint loads, and its weights are
// byte for byte those of the uninterrupted run at its step) and no (split, step) twice in metrics.jsonl;
// at the end each run's final weights, optimizer state, evaluation and metrics must equal the
// uninterrupted run's, with no temporary file left. The figures are printed as a table.
// Build first (npm run test:reliability does): node esbuild.mjs --no-typecheck.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { loadCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { parseMetricsJsonl, type MetricRecord, type RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { listRuns } from '../../sidecar/protocol/run_listing';
import { mulberry32 } from '../../sidecar/train/seeded_random';
import { tinyConfig, writeSyntheticLightcones } from '../integration/train_fixture';

const root = resolve(__dirname, '../..');
const sidecar = join(root, 'dist', 'sidecar.js');
const killsPerBackend = 10; // one while creating, three after a step, four at checkpoint writes, two at best
const totalSteps = 40;
const seed = Number(process.env.L3M_KILL_SEED ?? 20240611);

type KillPoint =
  | { kind: 'creating' }
  | { kind: 'step'; step: number }
  | { kind: 'checkpoint'; event: number }
  | { kind: 'best'; event: number };

interface Figures {
  backend: string;
  attempts: number;
  kills: number;
  killsByKind: Record<KillPoint['kind'], number>;
  resumes: number;
  runs: number;
  runsIdentical: number;
  tornCheckpoints: number;
  checkpointsChecked: number;
  unreadableFolders: number;
  duplicateMetricLines: number;
  leftoverTemporaryFiles: number;
}

let workspace: string;
before(() => {
  if (!existsSync(sidecar))
    throw new Error(
      `${sidecar} is missing; build it first with "node esbuild.mjs --no-typecheck" (npm run test:reliability does).`,
    );
  workspace = mkdtempSync(join(tmpdir(), 'l3m-kill-'));
  writeSyntheticLightcones(workspace);
});
after(() => {
  if (!process.env.L3M_KILL_KEEP) rmSync(workspace, { recursive: true, force: true });
});

function writeConfig(name: string, backend: string, keepCheckpoints: number): string {
  const path = join(workspace, `${name}.l3m.json`);
  const config = tinyConfig({
    training: { steps: totalSteps, checkpoint_every: 5, keep_checkpoints: keepCheckpoints },
    evaluation: { every: 5 },
    runtime: { backend },
  });
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n');
  return path;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killedAt: string | null;
}

/** Runs the sidecar with `args`; `arm` may call kill() from file events. Resolves when the process ends. */
function runSidecar(
  args: string[],
  arm?: (kill: (where: string) => void, stdout: () => string) => FSWatcher[] | void,
): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, L3M_CACHE_DIR: join(workspace, 'cache') };
    delete env.L3M_BACKEND;
    delete env.L3M_RUNS_DIR;
    const child = spawn(process.execPath, [sidecar, ...args], {
      cwd: workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killedAt: string | null = null;
    const kill = (where: string) => {
      if (killedAt !== null || child.exitCode !== null) return;
      if (child.kill('SIGKILL')) killedAt = where;
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const watchers = arm?.(kill, () => stdout) ?? [];
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const watcher of watchers) watcher.close();
      resolvePromise({ code, signal, stdout, stderr, killedAt: signal === 'SIGKILL' ? killedAt : null });
    });
  });
}

function safeWatch(path: string, listener: (file: string) => void): FSWatcher | null {
  try {
    const watcher = watch(path, (_event, file) => listener(String(file ?? '')));
    watcher.on('error', () => undefined);
    return watcher;
  } catch {
    return null;
  }
}

/** Arms the kill point on a run folder (known, or announced on stdout by `l3m train`). */
function armKill(point: KillPoint, experimentDir: string, knownRunDir: string | null) {
  return (kill: (where: string) => void, stdout: () => string): FSWatcher[] => {
    const watchers: FSWatcher[] = [];
    if (point.kind === 'creating') {
      const watcher = safeWatch(experimentDir, (file) => kill(`creating the run folder (${file})`));
      if (watcher) watchers.push(watcher);
      return watchers;
    }
    let checkpointEvents = 0;
    let armedRunDir: string | null = null;
    const onCheckpointFile = (file: string) => {
      if (point.kind === 'checkpoint' && ++checkpointEvents >= point.event)
        kill(`checkpoint file event ${checkpointEvents} (${file})`);
      if (point.kind === 'best' && file.startsWith('best') && ++checkpointEvents >= point.event)
        kill(`best file event ${checkpointEvents} (${file})`);
    };
    const armCheckpoints = (runDir: string) => {
      if (watchers.some((w) => (w as FSWatcher & { dir?: string }).dir === 'checkpoints')) return;
      const watcher = safeWatch(join(runDir, 'checkpoints'), onCheckpointFile);
      if (watcher) watchers.push(Object.assign(watcher, { dir: 'checkpoints' }));
    };
    const armRun = (runDir: string) => {
      if (armedRunDir !== null) return;
      armedRunDir = runDir;
      const watcher = safeWatch(runDir, (file) => {
        if (file === 'checkpoints') armCheckpoints(runDir);
        if (file === 'metrics.jsonl' && point.kind === 'step') {
          const steps = metricRecords(runDir)
            .filter((r) => r.split === 'train')
            .map((r) => r.step);
          if (steps.length > 0 && Math.max(...steps) >= point.step)
            kill(`after step ${point.step}'s metrics (file at step ${Math.max(...steps)})`);
        }
      });
      if (watcher) watchers.push(watcher);
      if (existsSync(join(runDir, 'checkpoints'))) armCheckpoints(runDir);
    };
    if (knownRunDir) armRun(knownRunDir);
    else {
      // `l3m train` prints the run folder before it trains; poll its output briefly until then.
      const poll = setInterval(() => {
        const announced = /Run folder: (.+)/.exec(stdout())?.[1].trim();
        if (announced) {
          clearInterval(poll);
          armRun(announced);
        }
      }, 5);
      watchers.push({ close: () => clearInterval(poll) } as unknown as FSWatcher);
    }
    return watchers;
  };
}

function metricRecords(runDir: string): MetricRecord[] {
  try {
    return parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records;
  } catch {
    return [];
  }
}

const duplicateLines = (records: MetricRecord[]) => {
  const keys = records.map((r) => `${r.split}@${r.step}`);
  return keys.length - new Set(keys).size;
};

function temporaryFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name.startsWith('.tmp-') || entry.name.includes('.tmp-')) found.push(path);
    else if (entry.isDirectory()) found.push(...temporaryFiles(path));
  }
  return found;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** sha256 of the weights and optimizer files a checkpoint's metadata names (any layout). */
function checkpointHashes(dir: string, name: string): { step: number; weights: string; optimizer: string | null } {
  const metadata = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as {
    step: number;
    weightsFile: string;
    optimizerFile: string | null;
  };
  return {
    step: metadata.step,
    weights: sha256(join(dir, metadata.weightsFile)),
    optimizer: metadata.optimizerFile ? sha256(join(dir, metadata.optimizerFile)) : null,
  };
}

/** The hashes of every step checkpoint of the uninterrupted run, by step. */
function referenceWeights(runDir: string): Map<number, { weights: string; optimizer: string | null }> {
  const dir = join(runDir, 'checkpoints');
  const byStep = new Map<number, { weights: string; optimizer: string | null }>();
  for (const file of readdirSync(dir).filter((f) => /^step-\d{8}\.json$/.test(f))) {
    const hashes = checkpointHashes(dir, file.replace(/\.json$/, ''));
    byStep.set(hashes.step, hashes);
  }
  return byStep;
}

/** Checks every checkpoint of a run: it loads (files agree with the manifest) and its weights are the reference's at its step. */
function checkCheckpoints(
  runDir: string,
  reference: ReturnType<typeof referenceWeights>,
  figures: Figures,
  problems: string[],
): void {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'))) {
    const name = file.replace(/\.json$/, '');
    figures.checkpointsChecked++;
    try {
      const loaded = loadCheckpoint(dir, name);
      tf.dispose([...loaded.weights.values(), ...loaded.optimizerState.values()]);
      // Independent of the loader's own checks: the weights must be the uninterrupted run's at the recorded step.
      const { step, weights } = checkpointHashes(dir, name);
      if (reference.get(step)?.weights !== weights)
        throw new Error(`its weights are not the uninterrupted run's at its step ${step}`);
    } catch (error) {
      figures.tornCheckpoints++;
      problems.push(`${join(dir, file)}: ${(error as Error).message}`);
    }
  }
}

async function campaign(backend: string, rng: () => number): Promise<{ figures: Figures; problems: string[] }> {
  const figures: Figures = {
    backend,
    attempts: 0,
    kills: 0,
    killsByKind: { creating: 0, step: 0, checkpoint: 0, best: 0 },
    resumes: 0,
    runs: 0,
    runsIdentical: 0,
    tornCheckpoints: 0,
    checkpointsChecked: 0,
    unreadableFolders: 0,
    duplicateMetricLines: 0,
    leftoverTemporaryFiles: 0,
  };
  const problems: string[] = [];
  const runsDir = join(workspace, `runs-${backend}`);
  const referenceConfig = writeConfig(`reference-${backend}`, backend, 1000);
  const straight = await runSidecar(['train', referenceConfig, '--runs-dir', runsDir]);
  assert.equal(straight.code, 0, straight.stderr);
  const referenceDir = /Completed\. Run folder: (.+)/.exec(straight.stdout)![1].trim();
  const reference = referenceWeights(referenceDir);
  assert.equal(reference.size, totalSteps / 5);

  const configPath = writeConfig(`killed-${backend}`, backend, 2);
  const experimentDir = join(runsDir, `killed-${backend}`);
  mkdirSync(experimentDir, { recursive: true });
  const runDirs = new Set<string>();
  let lastKill: unknown = null;
  const completed = new Set<string>();
  let current: string | null = null;
  // Every kind of point is visited: the first kill interrupts the creation of the run folder, the others
  // come in a seeded order, each with a seeded step or event number.
  const kinds: KillPoint['kind'][] = [
    'step',
    'step',
    'step',
    'checkpoint',
    'checkpoint',
    'checkpoint',
    'checkpoint',
    'best',
    'best',
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  kinds.unshift('creating');
  const drawPoint = (): KillPoint => {
    const kind = kinds[figures.kills];
    if (kind === 'creating') return { kind };
    if (kind === 'step') return { kind, step: 1 + Math.floor(rng() * (totalSteps - 1)) };
    if (kind === 'checkpoint') return { kind, event: 1 + Math.floor(rng() * 60) };
    return { kind, event: 1 + Math.floor(rng() * 12) };
  };
  const snapshot = async () => {
    for (const listing of await listRuns(runsDir)) {
      if (listing.kind === 'unreadable') {
        figures.unreadableFolders++;
        problems.push(`unreadable run folder ${listing.runDir}: ${listing.reason}`);
      }
    }
    for (const runDir of runDirs) {
      checkCheckpoints(runDir, reference, figures, problems);
      const records = metricRecords(runDir);
      const duplicates = duplicateLines(records);
      if (duplicates > 0) {
        const keys = records.map((r) => `${r.split}@${r.step}`);
        problems.push(
          `${runDir}: ${duplicates} duplicate metric lines (${keys.filter((k, i) => keys.indexOf(k) !== i).join(', ')}) after ${JSON.stringify(lastKill)}`,
        );
      }
      figures.duplicateMetricLines += duplicates;
    }
  };
  const newRunDirs = () =>
    readdirSync(experimentDir)
      .filter((n) => !n.startsWith('.'))
      .map((n) => join(experimentDir, n))
      .filter((d) => !runDirs.has(d));

  while (figures.kills < killsPerBackend && figures.attempts < 4 * killsPerBackend) {
    const point = drawPoint();
    figures.attempts++;
    const args = current === null ? ['train', configPath, '--runs-dir', runsDir] : ['resume', current];
    if (current !== null) figures.resumes++;
    const finished = await runSidecar(args, armKill(point, experimentDir, current));
    for (const dir of newRunDirs()) {
      runDirs.add(dir);
      current = dir;
    }
    if (finished.killedAt !== null) {
      lastKill = { args: args[0], point, at: finished.killedAt };
      figures.kills++;
      figures.killsByKind[point.kind]++;
      await snapshot();
      continue;
    }
    assert.equal(
      finished.code,
      0,
      `${args.join(' ')} ended with ${finished.code ?? finished.signal}: ${finished.stderr}`,
    );
    if (current !== null) completed.add(current);
    current = null;
  }
  assert.equal(figures.kills, killsPerBackend, `only ${figures.kills} kills landed in ${figures.attempts} attempts`);
  if (current !== null) {
    figures.resumes++;
    const finished = await runSidecar(['resume', current]);
    assert.equal(finished.code, 0, finished.stderr);
    completed.add(current);
  }
  await snapshot();

  const referenceEvaluation = readFileSync(join(referenceDir, 'eval', 'regression.json'), 'utf8');
  const comparable = (records: MetricRecord[]) => records.map((r) => ({ ...r, wall_time: 0, steps_per_s: 0 }));
  for (const runDir of runDirs) {
    figures.runs++;
    const leftovers = [
      ...temporaryFiles(runDir),
      ...readdirSync(join(runDir, 'checkpoints')).filter(
        (f) =>
          f.endsWith('.safetensors') &&
          !readdirSync(join(runDir, 'checkpoints')).some(
            (j) => j.endsWith('.json') && readFileSync(join(runDir, 'checkpoints', j), 'utf8').includes(f),
          ),
      ),
    ];
    figures.leftoverTemporaryFiles += leftovers.length;
    if (leftovers.length > 0) problems.push(`${runDir}: left over ${leftovers.join(', ')}`);
    const finalStep = checkpointHashes(join(runDir, 'checkpoints'), `step-${String(totalSteps).padStart(8, '0')}`);
    const expected = reference.get(totalSteps)!;
    const records = metricRecords(runDir);
    const train = records.filter((r) => r.split === 'train');
    const identical =
      finalStep.weights === expected.weights &&
      finalStep.optimizer === expected.optimizer &&
      readFileSync(join(runDir, 'eval', 'regression.json'), 'utf8') === referenceEvaluation &&
      JSON.stringify(comparable(records)) === JSON.stringify(comparable(metricRecords(referenceDir))) &&
      train.every((r, i) => i === 0 || r.wall_time >= train[i - 1].wall_time) &&
      readJson<RunRecord>(join(runDir, 'run.json')).status === 'completed';
    if (identical) figures.runsIdentical++;
    else problems.push(`${runDir}: final state differs from the uninterrupted run's`);
  }
  const hidden = readdirSync(experimentDir).filter((n) => n.startsWith('.tmp-'));
  figures.leftoverTemporaryFiles += hidden.length;
  if (hidden.length > 0) problems.push(`${experimentDir}: hidden temporary run folders ${hidden.join(', ')}`);
  return { figures, problems };
}

test(
  `${2 * killsPerBackend} SIGKILLs on cpu and wasm: no unreadable run, no torn checkpoint, no duplicate metric, final weights identical`,
  { timeout: 20 * 60_000 },
  async () => {
    const rng = mulberry32(seed);
    const results: { figures: Figures; problems: string[] }[] = [];
    for (const backend of ['cpu', 'wasm']) results.push(await campaign(backend, rng));
    const rows: [string, (f: Figures) => string][] = [
      ['SIGKILLs delivered / kill points tried', (f) => `${f.kills} / ${f.attempts}`],
      ['  while creating the run folder', (f) => String(f.killsByKind.creating)],
      ["  after a given step's metrics", (f) => String(f.killsByKind.step)],
      ['  at a checkpoint file event', (f) => String(f.killsByKind.checkpoint)],
      ['  right after a best file event', (f) => String(f.killsByKind.best)],
      ['resumes (all succeeded)', (f) => String(f.resumes)],
      ['runs completed byte-identical to the uninterrupted run', (f) => `${f.runsIdentical} / ${f.runs}`],
      ['torn checkpoints / checkpoint checks', (f) => `${f.tornCheckpoints} / ${f.checkpointsChecked}`],
      ['unreadable run folders (summed over checks)', (f) => String(f.unreadableFolders)],
      ['duplicate (split, step) metric lines', (f) => String(f.duplicateMetricLines)],
      ['temporary or orphaned files left at the end', (f) => String(f.leftoverTemporaryFiles)],
    ];
    const table = [
      `| kill campaign (seed ${seed}) | ${results.map((r) => r.figures.backend).join(' | ')} |`,
      `| --- | ${results.map(() => '---').join(' | ')} |`,
      ...rows.map(([label, cell]) => `| ${label} | ${results.map((r) => cell(r.figures)).join(' | ')} |`),
    ].join('\n');
    console.log(table);
    const problems = results.flatMap((r) => r.problems);
    assert.deepEqual(problems, []);
    for (const { figures } of results) {
      assert.equal(figures.kills, killsPerBackend);
      assert.equal(figures.unreadableFolders, 0);
      assert.equal(figures.tornCheckpoints, 0);
      assert.equal(figures.duplicateMetricLines, 0);
      assert.equal(figures.leftoverTemporaryFiles, 0);
      assert.equal(figures.runsIdentical, figures.runs);
    }
  },
);
