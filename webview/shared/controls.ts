// The chart controls shared by the monitor and compare panels: x axis (step, epoch, wall time),
// smoothing, and the scale of each axis (linear, log, or symlog for y, whose values may be ≤ 0).
// Controls are @vscode-elements/elements components (the maintained successor of the webview UI
// toolkit) except the slider, which that library lacks: a native range input styled with the
// theme's accent colour. Every control has a visible label.
import type { RunRecord, XAxis } from './panel_protocol';
import { axisScaleChoices, type AxisScale } from './axis_scales';
import { formatEpoch } from '../../sidecar/protocol/run_stage';

export interface ControlRowOptions {
  xAxis: XAxis;
  smoothing: number;
  xScale: AxisScale;
  yScale: AxisScale;
  onXAxis(x: XAxis): void;
  onSmoothing(weight: number): void;
  onXScale(scale: AxisScale): void;
  onYScale(scale: AxisScale): void;
}

export interface ControlRow {
  element: HTMLElement;
  xAxis: HTMLElement & { value: string };
  smoothing: HTMLInputElement;
  xScale: HTMLElement & { value: string };
  yScale: HTMLElement & { value: string };
}

let uid = 0;

export function labelled(row: HTMLElement, text: string, control: HTMLElement): void {
  const id = control.id || `control-${++uid}`;
  control.id = id;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = text;
  const wrap = document.createElement('span');
  wrap.className = 'control';
  wrap.append(label, control);
  row.append(wrap);
  control.setAttribute('aria-label', text);
}

export function select<T extends string>(
  options: [T, string][],
  value: T,
  onChange: (v: T) => void,
): HTMLElement & { value: string } {
  const element = document.createElement('vscode-single-select') as HTMLElement & { value: string };
  for (const [v, text] of options) {
    const option = document.createElement('vscode-option');
    option.setAttribute('value', v);
    option.textContent = text;
    if (v === value) option.setAttribute('selected', '');
    element.append(option);
  }
  element.addEventListener('change', () => {
    // The element's value is one of the options above; finding it gives the value its type.
    const chosen = options.find(([v]) => v === element.value);
    if (chosen) onChange(chosen[0]);
  });
  return element;
}

export function checkbox(
  text: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
): HTMLElement & { checked: boolean } {
  const element = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  element.setAttribute('label', text);
  if (checked) element.setAttribute('checked', '');
  element.setAttribute('aria-label', text);
  element.addEventListener('change', () => onChange(element.checked));
  return element;
}

export function controlRow(parent: HTMLElement, o: ControlRowOptions): ControlRow {
  const row = document.createElement('div');
  row.className = 'toolbar';
  const xAxis = select<XAxis>(
    [
      ['step', 'Step'],
      ['epoch', 'Epoch'],
      ['wall_time', 'Wall time'],
    ],
    o.xAxis,
    (axis) => o.onXAxis(axis),
  );
  labelled(row, 'X axis', xAxis);
  const smoothing = document.createElement('input');
  smoothing.type = 'range';
  smoothing.min = '0';
  smoothing.max = '0.99';
  smoothing.step = '0.01';
  smoothing.value = String(o.smoothing);
  const shown = document.createElement('span');
  shown.textContent = o.smoothing.toFixed(2);
  smoothing.addEventListener('input', () => {
    shown.textContent = Number(smoothing.value).toFixed(2);
    o.onSmoothing(Number(smoothing.value));
  });
  labelled(row, 'Smoothing', smoothing);
  row.lastElementChild?.append(shown);
  // x values are steps, epochs or seconds, never negative: symlog would only add a choice that does nothing.
  const xScale = select(
    axisScaleChoices.filter(([v]) => v !== 'symlog'),
    o.xScale,
    (scale) => o.onXScale(scale),
  );
  xScale.classList.add('scale-select');
  labelled(row, 'X scale', xScale);
  const yScale = select(axisScaleChoices, o.yScale, (scale) => o.onYScale(scale));
  yScale.classList.add('scale-select');
  labelled(row, 'Y scale', yScale);
  parent.append(row);
  return { element: row, xAxis, smoothing, xScale, yScale };
}

/**
 * One line about a run: status, task, device, progress. The error is shown only while the run stands
 * failed or cancelled: a resumed run's record may still carry the previous process's reason.
 */
export function runSubtitle(record: RunRecord | null): string {
  if (!record) return 'run.json could not be read';
  const parts: string[] = [record.status, record.task];
  if (record.device) parts.push(`${record.device.backend} — ${record.device.device}`);
  if (record.progress)
    parts.push(
      `step ${record.progress.step}/${record.progress.totalSteps}, epoch ${formatEpoch(record.progress.epoch)}`,
    );
  if (record.error && (record.status === 'failed' || record.status === 'cancelled'))
    parts.push(`error: ${record.error.message}`);
  return parts.join(' · ');
}
