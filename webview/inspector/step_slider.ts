// The training-step slider: a run sampled at several checkpoints has, for the same stretch of the same
// test lightcone, one sample per checkpoint; the slider steps through them in training order, so the
// forecast can be watched improving while the slice stays where it is. A sample written without its
// checkpoint's step is "step unknown" and comes after the known steps.
import type { SampleEntry } from '../../sidecar/protocol/run_folder';

/** "step 1200", or "step unknown" for a sample that does not record it. */
export function stepLabel(entry: SampleEntry): string {
  return typeof entry.checkpointStep === 'number' ? `step ${entry.checkpointStep}` : 'step unknown';
}

/** The sample select's text for an entry. */
export function sampleLabel(entry: SampleEntry): string {
  return `lightcone ${entry.lightcone}, slices from ${entry.firstSlice - entry.contextSlices} (${entry.contextSlices} context) · ${stepLabel(entry)}`;
}

/** Indices of the entries that forecast the same stretch as entry `index`, in training order (unknown steps last, in file order). */
export function samplesOfStretch(entries: readonly SampleEntry[], index: number): number[] {
  const at = entries[index];
  if (!at) return [];
  const same = (e: SampleEntry) =>
    e.lightcone === at.lightcone && e.firstSlice === at.firstSlice && e.contextSlices === at.contextSlices;
  const order = (e: SampleEntry) => (typeof e.checkpointStep === 'number' ? e.checkpointStep : Infinity);
  return entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => same(e))
    .sort((a, b) => order(a.e) - order(b.e) || a.i - b.i)
    .map(({ i }) => i);
}

export class StepSlider {
  readonly element: HTMLElement;
  readonly input: HTMLInputElement;
  private readonly label: HTMLElement;
  private stretch: number[] = [];

  /** `onPick` gets the sample index the slider moved to. */
  constructor(private readonly onPick: (sample: number) => void) {
    this.element = document.createElement('label');
    this.element.className = 'step-slider';
    this.element.append('Training step ');
    this.input = document.createElement('input');
    this.input.type = 'range';
    this.input.min = '0';
    this.input.step = '1';
    this.input.setAttribute('aria-label', 'Training step of the checkpoint that made the sample');
    this.label = document.createElement('span');
    this.label.className = 'step-label';
    this.element.append(this.input, this.label);
    this.input.addEventListener('input', () => {
      const sample = this.stretch[Number(this.input.value)];
      if (sample !== undefined) this.onPick(sample);
    });
  }

  /** Shows the steps of the stretch that sample `current` belongs to; the slider hides when there is one. */
  update(entries: readonly SampleEntry[], current: number): void {
    this.stretch = samplesOfStretch(entries, current);
    const position = Math.max(this.stretch.indexOf(current), 0);
    this.input.max = String(Math.max(this.stretch.length - 1, 0));
    this.input.value = String(position);
    // The label says the step of every sample (or that it is unknown); the slider only shows with a choice.
    this.input.hidden = this.stretch.length < 2;
    const entry = entries[current];
    this.element.hidden = !entry;
    this.label.textContent = entry
      ? `${stepLabel(entry)}${this.stretch.length > 1 ? ` (checkpoint ${position + 1} of ${this.stretch.length})` : ''}`
      : '';
  }
}
