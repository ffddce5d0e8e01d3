// The labels file of `data.files.labels.file`: a JSON object mapping each lightcone file name to the
// parameters given for it explicitly, by their config names:
//   { "cone_0001.h5": { "m_wdm": 3.2, "zeta": 41.5 }, "cone_0002.h5": {} }
// Named values rather than CSV columns, because a positional label order is the mistake this project
// already has to guard against (`data.files.label_order`); and JSON parses here with positions, so the
// editor and the loader name the line of a bad row. One parser for both: the config checks (while
// editing) and the sidecar (before training) report the same problems in the same words. Pure: the
// caller reads the text.
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { experimentSchema, type SchemaNode } from './resolve_config';

/** The parameters' config names, in the canonical order. */
export const labelParameterNames = ['m_wdm', 'omega_m', 'e_0', 'log10_l_x', 'log10_t_vir', 'zeta'] as const;
export type LabelParameterName = (typeof labelParameterNames)[number];

export interface LabelsRow {
  /** Lightcone file name (no folder), as the key is written. */
  file: string;
  values: Partial<Record<LabelParameterName, number>>;
  /** 1-based line of the row's key. */
  line: number;
}

export interface LabelsProblem {
  /** 1-based line and column. */
  line: number;
  column: number;
  message: string;
}

export interface ParsedLabels {
  rows: LabelsRow[];
  problems: LabelsProblem[];
}

/** Each parameter's range: the bounds of `data.files.labels.fixed` in the schema, the dataset's priors. */
export function labelBounds(): Record<LabelParameterName, { min: number; max: number }> {
  const fixed = experimentSchema.properties?.data?.properties?.files?.properties?.labels?.properties?.fixed;
  const bound = (name: LabelParameterName) => {
    const node: SchemaNode | undefined = fixed?.properties?.[name];
    return { min: node?.minimum ?? -Infinity, max: node?.maximum ?? Infinity };
  };
  return {
    m_wdm: bound('m_wdm'),
    omega_m: bound('omega_m'),
    e_0: bound('e_0'),
    log10_l_x: bound('log10_l_x'),
    log10_t_vir: bound('log10_t_vir'),
    zeta: bound('zeta'),
  };
}

/** 1-based line and column of every offset of `text`. */
function positions(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

function describe(node: JsonNode): string {
  if (node.type === 'object') return 'an object';
  if (node.type === 'array') return 'an array';
  return JSON.stringify(node.value);
}

/** Parses and checks a labels file's text: every row an object of known parameters with numbers in range. */
export function parseLabelsFile(text: string): ParsedLabels {
  const at = positions(text);
  const problems: LabelsProblem[] = [];
  const report = (offset: number, message: string) => problems.push({ ...at(offset), message });
  const errors: ParseError[] = [];
  let root: JsonNode | undefined;
  try {
    root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  } catch (error) {
    // The parser recurses per nesting level: a file nested thousands deep overflows the stack.
    report(0, `cannot be parsed (${error instanceof Error ? error.message : String(error)}); expected a JSON object.`);
    return { rows: [], problems };
  }
  if (errors.length > 0) {
    const first = errors[0];
    report(
      first.offset,
      `not valid JSON (${printParseErrorCode(first.error)}); expected a JSON object of lightcone file names.`,
    );
    return { rows: [], problems };
  }
  if (!root || root.type !== 'object') {
    report(
      root?.offset ?? 0,
      `expected an object of lightcone file names, each with its parameters ({"cone.h5": {"zeta": 30}}), found ${root ? describe(root) : 'nothing'}.`,
    );
    return { rows: [], problems };
  }
  const bounds = labelBounds();
  const seen = new Map<string, number>();
  const rows: LabelsRow[] = [];
  for (const property of root.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (!keyNode || !valueNode) continue;
    const file = String(keyNode.value);
    const line = at(keyNode.offset).line;
    const earlier = seen.get(file);
    if (earlier !== undefined) {
      report(keyNode.offset, `"${file}" appears twice (first on line ${earlier}); keep one entry per file.`);
      continue;
    }
    seen.set(file, line);
    if (valueNode.type !== 'object') {
      report(
        valueNode.offset,
        `"${file}" is ${describe(valueNode)}; expected an object of parameter values ({} for none).`,
      );
      continue;
    }
    const values: LabelsRow['values'] = {};
    for (const entry of valueNode.children ?? []) {
      const [nameNode, numberNode] = entry.children ?? [];
      if (!nameNode || !numberNode) continue;
      const name = String(nameNode.value);
      const parameter = labelParameterNames.find((known) => known === name);
      if (!parameter) {
        report(
          nameNode.offset,
          `"${file}" names "${name}", not a parameter; expected ${labelParameterNames.slice(0, -1).join(', ')} or ${labelParameterNames.at(-1)}.`,
        );
        continue;
      }
      if (numberNode.type !== 'number' || !Number.isFinite(numberNode.value)) {
        report(numberNode.offset, `"${file}" gives ${name} = ${describe(numberNode)}, not a number.`);
        continue;
      }
      const value = Number(numberNode.value);
      const { min, max } = bounds[parameter];
      if (value < min || value > max) {
        report(
          numberNode.offset,
          `"${file}" gives ${name} = ${value}, outside [${min}, ${max}], the dataset bounds of the paper's Table 1.`,
        );
        continue;
      }
      values[parameter] = value;
    }
    rows.push({ file, values, line });
  }
  return { rows, problems };
}
