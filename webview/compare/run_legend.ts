// The compare page's legend of runs, compact enough for dozens of runs: a collapsible section whose
// list scrolls within a few lines, so the charts stay in view; a filter that narrows the list by
// name or run id; per run a checkbox that shows or hides it, its colour and dash, and its name,
// which solos the run on a click (a second click shows every run again); hovering a run (or
// focusing its controls) highlights its curves in every chart and dims the others. The page owns
// the state (hidden runs, filter, open) and redraws on the changes this reports.
import type { RunStyle } from './run_palette';

export interface LegendRun {
  runDir: string;
  /** The name the page gives the run (run_names.ts). */
  name: string;
  /** `<experiment>/<run-id>`, for the tooltip and the filter. */
  id: string;
  style: RunStyle;
  shown: boolean;
}

export interface LegendEvents {
  /** Show or hide one run. */
  onShow(runDir: string, shown: boolean): void;
  /** Show only this run, or every run when it is the only one shown. */
  onSolo(runDir: string): void;
  /** Show every run. */
  onShowAll(): void;
  /** Highlight a run's curves, or none (null). */
  onHighlight(runDir: string | null): void;
  onRemove(runDir: string): void;
  /** The filter text or the open state changed (the page saves them). */
  onViewChange(view: { filter: string; open: boolean }): void;
}

/** A short line in the run's colour and dash, as the charts draw it. */
export function swatch(style: RunStyle): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'run-swatch');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '8');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('x2', '21');
  line.setAttribute('y1', '4');
  line.setAttribute('y2', '4');
  line.setAttribute('stroke', style.color);
  line.setAttribute('stroke-width', '2.5');
  if (style.dash.length > 0) line.setAttribute('stroke-dasharray', style.dash.map((d) => d / 2).join(' '));
  svg.append(line);
  return svg;
}

export class RunLegend {
  readonly element: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private runs: LegendRun[] = [];

  constructor(
    parent: HTMLElement,
    private readonly events: LegendEvents,
    view: { filter: string; open: boolean },
  ) {
    this.element = document.createElement('details');
    this.element.className = 'run-legend';
    this.element.open = view.open;
    this.summary = document.createElement('summary');
    const tools = document.createElement('div');
    tools.className = 'toolbar';
    this.filterInput = document.createElement('input');
    this.filterInput.type = 'search';
    this.filterInput.className = 'run-filter';
    this.filterInput.placeholder = 'Filter runs by name or id';
    this.filterInput.setAttribute('aria-label', 'Filter runs');
    this.filterInput.value = view.filter;
    this.filterInput.addEventListener('input', () => {
      this.applyFilter();
      this.viewChanged();
    });
    const showAll = document.createElement('vscode-button');
    showAll.setAttribute('secondary', '');
    showAll.className = 'show-all';
    showAll.textContent = 'Show all';
    showAll.addEventListener('click', () => events.onShowAll());
    tools.append(this.filterInput, showAll);
    this.list = document.createElement('div');
    this.list.className = 'run-list';
    this.list.setAttribute('role', 'list');
    this.list.setAttribute('aria-label', 'Runs');
    this.list.addEventListener('mouseleave', () => events.onHighlight(null));
    this.empty = document.createElement('p');
    this.empty.className = 'note';
    this.element.append(this.summary, tools, this.list, this.empty);
    this.element.addEventListener('toggle', () => this.viewChanged());
    parent.append(this.element);
  }

  get filter(): string {
    return this.filterInput.value;
  }

  render(runs: LegendRun[]): void {
    this.runs = runs;
    this.list.replaceChildren();
    for (const run of runs) {
      const item = document.createElement('div');
      item.className = 'run-item';
      item.setAttribute('role', 'listitem');
      item.dataset.runDir = run.runDir;
      item.title = run.id;
      item.classList.toggle('hidden-run', !run.shown);
      // A native checkbox: one per run, and dozens of web components would cost more than the charts to start.
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.className = 'run-shown';
      box.checked = run.shown;
      box.setAttribute('aria-label', `Show ${run.name}`);
      box.addEventListener('change', () => this.events.onShow(run.runDir, box.checked));
      const name = document.createElement('button');
      name.className = 'run-name';
      name.textContent = run.name;
      name.title = `${run.id}: click to show only this run, click again to show all`;
      name.addEventListener('click', () => this.events.onSolo(run.runDir));
      const remove = document.createElement('button');
      remove.className = 'run-remove';
      remove.textContent = '×';
      remove.title = `Remove ${run.id} from the comparison`;
      remove.setAttribute('aria-label', `Remove ${run.id} from the comparison`);
      remove.addEventListener('click', () => this.events.onRemove(run.runDir));
      item.addEventListener('mouseenter', () => this.events.onHighlight(run.runDir));
      // Keyboard users highlight a run by moving focus onto its controls.
      item.addEventListener('focusin', () => this.events.onHighlight(run.runDir));
      item.addEventListener('focusout', () => this.events.onHighlight(null));
      item.append(box, swatch(run.style), name, remove);
      this.list.append(item);
    }
    this.applyFilter();
  }

  private applyFilter(): void {
    const needle = this.filterInput.value.trim().toLowerCase();
    let matching = 0;
    let shown = 0;
    this.runs.forEach((run, i) => {
      const item = this.list.children.item(i);
      const match = needle === '' || `${run.name} ${run.id}`.toLowerCase().includes(needle);
      if (item instanceof HTMLElement) item.hidden = !match;
      if (match) matching++;
      if (run.shown) shown++;
    });
    const total = this.runs.length;
    this.summary.textContent = `Runs: ${shown} of ${total} shown${needle !== '' ? `, ${matching} match the filter` : ''}`;
    this.empty.hidden = total > 0 && matching > 0;
    this.empty.textContent =
      total === 0
        ? 'No runs: select runs in the Runs view and choose Compare Runs, or use Add runs….'
        : `No run matches “${this.filterInput.value}”.`;
  }

  private viewChanged(): void {
    this.events.onViewChange({ filter: this.filterInput.value, open: this.element.open });
  }
}
