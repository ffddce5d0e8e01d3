// The monitor's header: what the run is (status, task, device) and, while it is live, what it is doing
// now: its stage (simulating data, training, evaluating, sampling) with that stage's progress, the
// measured throughput and the ETA, and a progress bar. Three sources say where a live run is, each with
// its own lag: the sidecar's run/progress notifications (a run this window started; a few a second),
// run.json's progress (any run; rewritten every 2 s), and the metric records the page draws (the step it
// has just drawn). The header shows the furthest of them, so it never lags the curves or the status bar.
import { describeProgress, formatEpoch, type ProgressLike } from '../../sidecar/protocol/run_stage';
import type { MetricRecord, RunRecord } from '../shared/panel_protocol';
import { runSubtitle } from '../shared/controls';
import { splitNames, type MetricColumns } from '../shared/metric_table';

/** The newest training record the page has drawn. */
interface DrawnStep {
  step: number;
  epoch: number;
  stepsPerSecond?: number;
}

function isLive(record: RunRecord | null): boolean {
  return record?.status === 'running' || record?.status === 'queued';
}

/**
 * Where a live run is, from the three sources: the sidecar's report first, else run.json's; a training
 * record drawn past their step moves the step on, with an ETA from the measured step rate.
 */
export function currentProgress(
  record: RunRecord | null,
  reported: ProgressLike | null,
  drawn: DrawnStep | null,
): ProgressLike | null {
  if (!isLive(record)) return null;
  const base = reported ?? record?.progress ?? null;
  const training = !base?.stage || base.stage.name === 'training';
  if (!drawn || !training || (base && drawn.step <= base.step)) return base;
  const totalSteps = base?.totalSteps ?? 0;
  const stepsPerSecond = drawn.stepsPerSecond ?? base?.stepsPerSecond;
  const etaSeconds =
    totalSteps > 0 && stepsPerSecond !== undefined && stepsPerSecond > 0
      ? Math.max(0, totalSteps - drawn.step) / stepsPerSecond
      : null;
  return {
    step: drawn.step,
    totalSteps,
    epoch: drawn.epoch,
    stepsPerSecond,
    etaSeconds,
    stage: { name: 'training', text: `training ${drawn.step}/${totalSteps}` },
  };
}

/** How much of a live run's current stage is done, 0..1, when known. */
function fractionOf(p: ProgressLike): number | undefined {
  if (p.stage && p.stage.name !== 'training') return p.stage.fraction;
  return p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : undefined;
}

export class RunHeader {
  readonly status = document.createElement('div');
  readonly live = document.createElement('div');
  private readonly liveText = document.createElement('span');
  private readonly bar = document.createElement('progress');
  private record: RunRecord | null = null;
  private reported: ProgressLike | null = null;
  private drawn: DrawnStep | null = null;

  constructor(parent: HTMLElement) {
    this.status.className = 'subtitle';
    this.live.className = 'run-progress';
    this.bar.max = 1;
    this.bar.setAttribute('aria-label', 'progress of the current stage');
    this.live.append(this.liveText, this.bar);
    parent.append(this.status, this.live);
    this.render();
  }

  /** A new run.json (the page's first load, or a change of state): a report of another status is stale. */
  setRecord(record: RunRecord | null, fresh = false): void {
    if (fresh || record?.status !== this.record?.status) {
      this.reported = null;
      if (fresh) this.drawn = null;
    }
    this.record = record;
    this.render();
  }

  setProgress(progress: ProgressLike): void {
    this.reported = progress;
    this.render();
  }

  /** Training records the page drew: the header's step follows the curves. */
  seeRecords(records: readonly MetricRecord[]): void {
    let changed = false;
    for (const r of records) {
      if (r.split !== 'train' || (this.drawn && r.step <= this.drawn.step)) continue;
      const rate = r.steps_per_s;
      this.drawn = {
        step: r.step,
        epoch: r.epoch,
        stepsPerSecond: typeof rate === 'number' && rate > 0 ? rate : this.drawn?.stepsPerSecond,
      };
      changed = true;
    }
    if (changed) this.render();
  }

  /** What the page says while it has no curve: during data simulation it can take minutes, so the stage is named. */
  waitingText(): string {
    const progress = currentProgress(this.record, this.reported, this.drawn);
    if (progress?.stage && progress.stage.name !== 'training')
      return `No curves yet: ${describeProgress(progress).stage}. They start with the first training step.`;
    if (this.record && !isLive(this.record)) return `This run wrote no metrics (${this.record.status}).`;
    return 'Waiting for the run to write metrics…';
  }

  /** What the header shows now (the browser tests read it). */
  text(): { status: string; live: string; fraction: number | null } {
    return {
      status: this.status.textContent ?? '',
      live: this.live.hidden ? '' : (this.liveText.textContent ?? ''),
      fraction: this.bar.hidden ? null : this.bar.value,
    };
  }

  private render(): void {
    const record = this.record;
    const progress = currentProgress(record, this.reported, this.drawn);
    if (!record || !progress) {
      this.status.textContent = runSubtitle(record);
      this.live.hidden = true;
      return;
    }
    const parts: string[] = [record.status, record.task];
    if (record.device) parts.push(`${record.device.backend} — ${record.device.device}`);
    this.status.textContent = parts.join(' · ');
    const d = describeProgress(progress);
    const stage =
      progress.stage && progress.stage.name !== 'training'
        ? d.stage
        : `training: step ${progress.step}${progress.totalSteps > 0 ? `/${progress.totalSteps}` : ''}, epoch ${formatEpoch(progress.epoch)}`;
    this.liveText.textContent = [stage, d.rate, d.eta].filter((s) => s !== undefined).join(' · ');
    const fraction = fractionOf(progress);
    this.bar.hidden = fraction === undefined;
    if (fraction !== undefined) this.bar.value = fraction;
    this.live.hidden = false;
  }
}

/** The last training row of received columns as the header's drawn step (the page's first load). */
export function lastTrainRecord(columns: MetricColumns): MetricRecord | null {
  const train = splitNames.indexOf('train');
  for (let i = columns.length - 1; i >= 0; i--) {
    if (columns.split[i] !== train) continue;
    const rate = columns.metrics.find((m) => m.name === 'steps_per_s');
    const record: MetricRecord = {
      step: columns.step[i],
      epoch: columns.epoch[i],
      wall_time: columns.wall_time[i],
      split: 'train',
    };
    if (rate?.present[i]) record.steps_per_s = rate.values[i];
    return record;
  }
  return null;
}
