// What a run is doing now, in words every reader shows alike: the monitor's header, the Runs view, the
// status bar and `l3m runs`. A run goes through stages (its data simulated or read, training, the test
// evaluation, sampling); each has its own progress, and its ETA comes from the rate measured since the
// stage began. The sidecar records the stage in run.json's `progress.stage` and sends it with every
// run/progress notification, so a reader without the protocol (a terminal, a cluster run) sees the same.
// Pure functions only: the webviews use this module too.

/** The stages of a run, in the order a run goes through them. */
export type RunStageName = 'data' | 'training' | 'evaluating' | 'sampling';

export interface RunStage {
  name: RunStageName;
  /** What the sidecar says it does, e.g. "simulating lightcones 3/40". */
  text: string;
  /** How much of the stage is done, 0..1, when the stage can tell. */
  fraction?: number;
  /** Seconds left in the stage at the rate measured since it began; null when not yet known. */
  etaSeconds?: number | null;
}

const stageNames: ReadonlySet<string> = new Set<RunStageName>(['data', 'training', 'evaluating', 'sampling']);

/** Whether a value read from run.json is a stage (a hand-edited or foreign one is dropped by the parser). */
export function isRunStage(value: unknown): value is RunStage {
  if (typeof value !== 'object' || value === null) return false;
  const name: unknown = Reflect.get(value, 'name');
  const text: unknown = Reflect.get(value, 'text');
  const fraction: unknown = Reflect.get(value, 'fraction');
  const eta: unknown = Reflect.get(value, 'etaSeconds');
  return (
    typeof name === 'string' &&
    stageNames.has(name) &&
    typeof text === 'string' &&
    (fraction === undefined || typeof fraction === 'number') &&
    (eta === undefined || eta === null || typeof eta === 'number')
  );
}

/** How a run's progress reads to a person: "training 120/600 (epoch 2.4) · 3.2 steps/s · ETA 2 min 30 s". */
export interface ProgressLike {
  step: number;
  totalSteps: number;
  epoch: number;
  stepsPerSecond?: number;
  etaSeconds?: number | null;
  stage?: RunStage;
}

/**
 * How far a stage's text says it is: "simulating lightcones 3/40" is 3/40; a nested count such as
 * "sampling test lightcone 2/3: slice 5/20" counts the outer unit as done up to the one in progress,
 * (1 + 5/20) / 3. Undefined when the text holds no count.
 */
export function fractionOfText(text: string): number | undefined {
  const counts = [...text.matchAll(/(\d+)\s*\/\s*(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  if (counts.length === 0 || counts.some(([, total]) => total <= 0)) return undefined;
  // Innermost first: each outer count adds its finished units to the inner fraction.
  let fraction = Math.min(1, counts[counts.length - 1][0] / counts[counts.length - 1][1]);
  for (let i = counts.length - 2; i >= 0; i--) {
    const [done, total] = counts[i];
    fraction = Math.min(1, (Math.max(0, done - 1) + fraction) / total);
  }
  return fraction;
}

/**
 * Tracks one stage at a time and measures its rate: the ETA is the time the stage has taken so far,
 * scaled by what is left of it. A new stage (another name) starts a new measurement.
 */
export class StageClock {
  private current: { name: RunStageName; startedAt: number; startFraction: number } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  stage(name: RunStageName, text: string): RunStage {
    const fraction = fractionOfText(text);
    const now = this.now();
    if (this.current?.name !== name) this.current = { name, startedAt: now, startFraction: fraction ?? 0 };
    const stage: RunStage = { name, text };
    if (fraction === undefined) return stage;
    stage.fraction = fraction;
    const elapsed = (now - this.current.startedAt) / 1000;
    const done = fraction - this.current.startFraction;
    stage.etaSeconds = done > 0 && elapsed > 0 ? ((1 - fraction) * elapsed) / done : null;
    return stage;
  }
}

/** An epoch as a person reads it: two decimals at most, "7.07", "7". */
export function formatEpoch(epoch: number): string {
  return String(Math.round(epoch * 100) / 100);
}

/** 95 → "1 min 35 s", 7300 → "2 h 2 min". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes - hours * 60} min`;
}

/** Steps per second as a person reads it: "3.21 steps/s", "0.045 steps/s". */
export function formatRate(stepsPerSecond: number): string {
  return `${stepsPerSecond >= 10 ? stepsPerSecond.toFixed(1) : stepsPerSecond.toPrecision(3)} steps/s`;
}

/**
 * The parts of a progress line: the stage (its own text outside training, "step 120/600 (epoch 2.4)"
 * in training), then throughput and ETA when known. A stage other than training never shows the
 * meaningless "0/0" of its step counts.
 */
export function describeProgress(p: ProgressLike): { stage: string; rate?: string; eta?: string } {
  const stage = p.stage;
  if (stage && stage.name !== 'training') {
    const eta = stage.etaSeconds != null ? `ETA ${formatEta(stage.etaSeconds)}` : undefined;
    return { stage: stage.text, eta };
  }
  const steps = p.totalSteps > 0 ? `step ${p.step}/${p.totalSteps}` : `step ${p.step}`;
  return {
    stage: `training ${steps} (epoch ${formatEpoch(p.epoch)})`,
    rate: p.stepsPerSecond !== undefined && p.stepsPerSecond > 0 ? formatRate(p.stepsPerSecond) : undefined,
    eta: p.etaSeconds != null ? `ETA ${formatEta(p.etaSeconds)}` : undefined,
  };
}

/** The whole progress line, its parts joined: "training step 120/600 (epoch 2.4) · 3.21 steps/s · ETA 2 min 30 s". */
export function progressLine(p: ProgressLike): string {
  const d = describeProgress(p);
  return [d.stage, d.rate, d.eta].filter((s) => s !== undefined).join(' · ');
}

/**
 * A run's status with what it does now, for one-line listings (the Runs view): while it runs, its stage
 * with the stage's progress and ETA as run.json last recorded them ("running · simulating lightcones 3/40 ·
 * ETA 2 min 5 s"); otherwise the status alone.
 */
export function runDescription(status: string, progress: ProgressLike | undefined): string {
  if (status !== 'running' || !progress?.stage) return status;
  const d = describeProgress(progress);
  return [status, d.stage, d.eta].filter((part) => part !== undefined).join(' · ');
}

/** A run/progress report as this module reads it: one without a stage (an older sidecar) is training's unless it names a phase. */
export function progressOfReport(p: ProgressLike & { phase?: string }): ProgressLike {
  const stage = p.stage ?? (p.phase !== undefined ? { name: 'data' as const, text: p.phase } : undefined);
  return { ...p, stage };
}

/**
 * The status bar's short form: outside training the stage with its count and ETA ("simulating lightcones
 * 3/40 · ETA 2 min 5 s"), never the 0/0 of the step counts; in training "120/600 loss 0.1234 · ETA 30 s".
 */
export function shortProgress(p: ProgressLike & { phase?: string; loss?: number | null }): string {
  const progress = progressOfReport(p);
  const d = describeProgress(progress);
  if (progress.stage && progress.stage.name !== 'training')
    return [d.stage, d.eta].filter((part) => part !== undefined).join(' · ');
  const steps = p.totalSteps > 0 ? `${p.step}/${p.totalSteps}` : `${p.step}`;
  const loss = typeof p.loss === 'number' ? ` loss ${p.loss.toPrecision(4)}` : '';
  return `${steps}${loss}${d.eta ? ` · ${d.eta}` : ''}`;
}
