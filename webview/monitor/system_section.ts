// The monitor's system section: CPU use, resident memory and (on a GPU backend) GPU memory of the training
// process, from the `kind: "system"` lines the sidecar writes to metrics.jsonl every 10 s. Collapsed by
// default, since the curves are what a run is watched for; the charts are built when it is first opened
// (a chart in a closed <details> has no size to draw at). Malformed system lines were skipped by the
// parser and are counted here, never shown as read errors of the training metrics.
import { Chart, formatDuration } from '../shared/chart';
import { seriesColors } from '../shared/theme';
import type { PanelBridge } from '../shared/vscode_api';
import type { SystemRecord } from '../shared/panel_protocol';

const quantities = [
  { key: 'cpu_percent', title: 'CPU (%, one core = 100)' },
  { key: 'rss_mb', title: 'Resident memory (MB)' },
  { key: 'gpu_mb', title: 'GPU memory held by tensors (MB)' },
  { key: 'gpu_util', title: 'GPU utilisation (%)' },
] as const;

type Quantity = (typeof quantities)[number]['key'];

export class SystemSection {
  readonly element = document.createElement('details');
  private readonly summary = document.createElement('summary');
  private readonly body = document.createElement('div');
  private readonly records: SystemRecord[] = [];
  private skipped = 0;
  private readonly charts = new Map<Quantity, Chart>();

  constructor(
    parent: HTMLElement,
    private readonly bridge: PanelBridge,
  ) {
    this.element.className = 'system-section';
    this.body.className = 'charts';
    this.element.append(this.summary, this.body);
    this.element.addEventListener('toggle', () => this.draw());
    parent.append(this.element);
    this.render();
  }

  clear(): void {
    this.records.length = 0;
    this.skipped = 0;
    this.render();
  }

  add(records: readonly SystemRecord[], skipped: number): void {
    for (const r of records) this.records.push(r);
    this.skipped += skipped;
    this.render();
  }

  /** What the section holds (the browser tests read it). */
  state(): {
    open: boolean;
    samples: number;
    skipped: number;
    summary: string;
    charts: { title: string; points: number }[];
  } {
    return {
      open: this.element.open,
      samples: this.records.length,
      skipped: this.skipped,
      summary: this.summary.textContent ?? '',
      charts: [...this.charts.values()].map((c) => ({ title: c.title, points: c.uplot ? c.uplot.data[0].length : 0 })),
    };
  }

  private render(): void {
    const n = this.records.length;
    const skipped = this.skipped > 0 ? `; ${this.skipped} malformed line${this.skipped === 1 ? '' : 's'} skipped` : '';
    const latest = this.records[n - 1];
    const now =
      latest === undefined
        ? 'no samples yet (one every 10 s while the run trains)'
        : [
            latest.cpu_percent !== null ? `CPU ${latest.cpu_percent}%` : undefined,
            latest.rss_mb !== null ? `${latest.rss_mb} MB resident` : undefined,
            latest.gpu_mb != null ? `${latest.gpu_mb} MB on the GPU` : undefined,
            latest.gpu_util != null ? `GPU ${latest.gpu_util}% busy` : undefined,
          ]
            .filter((s) => s !== undefined)
            .join(', ');
    this.summary.textContent = `System: ${now} (${n} sample${n === 1 ? '' : 's'}${skipped})`;
    this.element.hidden = n === 0 && this.skipped === 0;
    this.draw();
  }

  private draw(): void {
    if (!this.element.open) return;
    const x = Float64Array.from(this.records, (r) => r.wall_time);
    const colors = seriesColors();
    quantities.forEach(({ key, title }, i) => {
      const y = Float64Array.from(this.records, (r) => {
        const v = r[key];
        return typeof v === 'number' ? v : NaN;
      });
      // The GPU charts only where a GPU backend wrote figures.
      if ((key === 'gpu_mb' || key === 'gpu_util') && !this.records.some((r) => typeof r[key] === 'number')) return;
      let chart = this.charts.get(key);
      if (!chart) {
        chart = new Chart(
          this.body,
          {
            title,
            xLabel: 'wall time',
            logY: false,
            series: [{ label: title, color: colors[i % colors.length], width: 2 }],
            formatX: formatDuration,
          },
          this.bridge,
        );
        this.charts.set(key, chart);
      }
      chart.setData([x, y]);
    });
  }
}
