// Every message between a panel's page (webview/) and its host in the extension (extension/panels/),
// typed once and imported by both sides (docs/conventions.md#panel-messages). It imports neither `vscode` nor the DOM,
// so both tsconfigs accept it. A page posts `ready` first; the host posts nothing before it.
// Slices travel as binary (the raw bytes of their .npy files in an ArrayBuffer, which VS Code
// transfers without JSON-encoding); a run's metrics travel as typed-array columns (metric_table.ts),
// and only the monitor's live appends of a few records as the objects of metrics.jsonl.
import type {
  MetricRecord,
  RegressionEvaluationFile,
  RunRecord,
  SampleIndex,
  SystemRecord,
} from '../../sidecar/protocol/run_folder';
import type { MetricColumns } from './metric_columns';
import type { ProgressLike } from '../../sidecar/protocol/run_stage';

export type { MetricRecord, RegressionEvaluationFile, RunRecord, SampleIndex, SystemRecord };
export type { ProgressLike };

/** What a panel shows about a run besides its data. */
export interface RunSummary {
  runDir: string;
  /** `<experiment>/<run-id>`, or the folder name when run.json is unreadable. */
  name: string;
  record: RunRecord | null;
}

// ---- Page → host ----

export type PageMessage =
  /** Sent once when the page has its listeners in place; the host then posts the data. */
  | { type: 'ready' }
  /** Inspector: load the slices of sample entry `index` of samples/index.json. */
  | { type: 'inspector/loadSample'; index: number }
  /** Compare: ask the host to let the user pick more runs. */
  | { type: 'compare/addRuns' }
  /** Compare: drop a run from the panel. */
  | { type: 'compare/removeRun'; runDir: string }
  /** Compare: put a text the user exported (the group table as CSV or Markdown) on the clipboard. */
  | { type: 'compare/copy'; text: string; what: string }
  /** Any panel: save a file the user exported (PNG bytes, SVG, CSV or Markdown text) through a save dialog. */
  | {
      type: 'export';
      fileName: string;
      mime: 'image/png' | 'image/svg+xml' | 'text/csv' | 'text/markdown';
      data: ArrayBuffer | string;
    };

// ---- Host → page ----

export interface MonitorInit {
  type: 'monitor/init';
  run: RunSummary;
  /** All of metrics.jsonl so far, as typed-array columns (binary; see metric_table.ts). */
  columns: MetricColumns;
  /** Lines or files that could not be read; the page shows them. */
  problems: string[];
  /**
   * The test lightcones of the run's evaluation (eval/regression.json), null without one: a NaN R²
   * of a single test lightcone is undefined, not unreadable, and the page says so.
   */
  testLightcones: number | null;
  /** The system lines of metrics.jsonl (CPU, memory, GPU memory), and how many malformed ones were skipped. */
  system: SystemRecord[];
  systemSkipped: number;
}

export interface MonitorAppend {
  type: 'monitor/append';
  records: MetricRecord[];
  problems: string[];
  /** As in MonitorInit, sent with the test record (eval/regression.json is written before it). */
  testLightcones?: number | null;
  /** As in MonitorInit, when system lines came with the records. */
  system?: SystemRecord[];
  systemSkipped?: number;
}

/** Monitor: the run's progress as the sidecar reports it (run/progress), fresher than run.json's copy. */
export interface RunProgressMessage {
  type: 'run/progress';
  progress: ProgressLike;
}

export interface RunStateMessage {
  type: 'run/state';
  record: RunRecord;
}

export interface InspectorInit {
  type: 'inspector/init';
  run: RunSummary;
  /** samples/index.json, or null when the run has none. */
  samples: SampleIndex | null;
  /** eval/regression.json for regression runs, or null. */
  regression: RegressionEvaluationFile | null;
  problems: string[];
}

export interface InspectorSample {
  type: 'inspector/sample';
  index: number;
  /** The bytes of the truth and generated .npy files; null when a file could not be read. */
  truth: ArrayBuffer | null;
  generated: ArrayBuffer | null;
  problems: string[];
}

/**
 * Inspector of a run with no samples: true slices of the run's dataset (from `l3m data`, see
 * extension/panels/data_preview.ts), shown as "data (no samples yet)".
 */
export interface InspectorDataPreview {
  type: 'inspector/dataPreview';
  /** The lightcone the slices come from (its file or simulator id). */
  lightcone: string;
  /** Each slice's index in the lightcone, and its redshift when known. */
  slices: number[];
  redshifts: number[] | null;
  /** [slices, x, y] of `data`. */
  shape: [number, number, number];
  /** Comoving side of a slice [Mpc], when the run's dataset gives it (the built-in simulator). */
  boxMpc?: number;
  /** float32 values in C order (binary); null when nothing could be read. */
  data: ArrayBuffer | null;
  problems: string[];
}

export interface CompareRun {
  run: RunSummary;
  /** config.json of the run, or null when unreadable. */
  config: unknown;
  /** metrics.jsonl as typed-array columns (binary, like the monitor's init; see metric_table.ts). */
  columns: MetricColumns;
  problems: string[];
}

export interface CompareRuns {
  type: 'compare/runs';
  runs: CompareRun[];
  /** Set when the runs are a sweep's: the page then groups them by their sweep group (run.json's sweep.group). */
  groupBy?: 'sweep';
}

export type HostMessage =
  | MonitorInit
  | MonitorAppend
  | RunStateMessage
  | RunProgressMessage
  | InspectorInit
  | InspectorSample
  | InspectorDataPreview
  | CompareRuns;

const hostMessageTypes: ReadonlySet<string> = new Set<HostMessage['type']>([
  'monitor/init',
  'monitor/append',
  'run/state',
  'run/progress',
  'inspector/init',
  'inspector/sample',
  'inspector/dataPreview',
  'compare/runs',
]);

/** Whether a posted value is one of the host's messages (by its type; only our own extension host posts to a panel). */
export function isHostMessage(value: unknown): value is HostMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'type' in value &&
    typeof value.type === 'string' &&
    hostMessageTypes.has(value.type)
  );
}

/** State a page keeps with setState, so that it survives hiding and a window reload. */
export interface MonitorState {
  kind: 'monitor';
  runDir: string;
  xAxis: XAxis;
  smoothing: number;
  logY: boolean;
  /** The charts' axis scales (axis_scales.ts); absent in older state, where logY stands for the y scale. */
  xScale?: 'linear' | 'log' | 'symlog';
  yScale?: 'linear' | 'log' | 'symlog';
}
export interface InspectorState {
  kind: 'inspector';
  runDir: string;
  sample: number;
  slice: number;
  colormap: ColormapName;
  scale: 'shared' | 'per-panel';
  /** How values map to colours, and the percentiles of the default window. Absent in older state. */
  transform?: DisplayTransform;
  percentiles?: { lo: number; hi: number };
  /** What the global signal is drawn against. Absent in older state. */
  signalAxis?: 'redshift' | 'frequency';
}
export interface CompareState {
  kind: 'compare';
  runDirs: string[];
  xAxis: XAxis;
  smoothing: number;
  logY: boolean;
  /** As in MonitorState. */
  xScale?: 'linear' | 'log' | 'symlog';
  yScale?: 'linear' | 'log' | 'symlog';
  hidden: string[];
  sort: { column: string; descending: boolean };
  /** How runs are grouped: '' for none, 'sweep', or 'config:<dotted path>'. Absent in older state. */
  groupBy?: string;
  /** Whether the group charts show each run's curve behind the bands. */
  showRuns?: boolean;
  /** The group table's metric ("metric · split") and reference group. */
  groupMetric?: string | null;
  reference?: string | null;
  /** Groups hidden from the charts, by key. */
  hiddenGroups?: string[];
  /** Each run's palette slot (its colour and dash), by run folder, so that colours stay put. */
  slots?: Record<string, number>;
  /** The legend's filter text, and whether the legend is open. */
  legendFilter?: string;
  legendOpen?: boolean;
  /** The metrics table's chosen "metric · split" columns; null for the default set. */
  tableMetrics?: string[] | null;
  /** Whether the config table lists every field (true) or only those that differ. */
  configAll?: boolean;
}
export type PanelState = MonitorState | InspectorState | CompareState;

/** Whether a value kept with setState is the state of the panel `kind` (state from an older version may differ). */
export function isPanelStateOf<K extends PanelState['kind']>(
  value: unknown,
  kind: K,
): value is Extract<PanelState, { kind: K }> {
  if (typeof value !== 'object' || value === null || !('kind' in value) || value.kind !== kind) return false;
  return kind === 'compare'
    ? 'runDirs' in value && Array.isArray(value.runDirs)
    : 'runDir' in value && typeof value.runDir === 'string';
}

export type XAxis = 'step' | 'epoch' | 'wall_time';
export type ColormapName = 'diverging' | 'sequential';
/** The inspector's display transform: linear, symmetric-log, or sgn·ln(1+|x|). */
export type DisplayTransform = 'linear' | 'symlog' | 'sgn-ln';

/** The keys of a metric record that are not metric values. */
export const recordKeys: ReadonlySet<string> = new Set(['step', 'epoch', 'wall_time', 'split']);
