// Labels a config gives explicitly (`data.files.labels`), for the parameters a lightcone file cannot give
// with the paper's meaning (a 21cmFAST model without that parameter) or to correct a file's own values:
//   - `fixed`: one value per parameter for every lightcone (a dataset that does not vary it, CDM files);
//   - `file`: a labels file with an entry per lightcone file (schemas/labels_file.ts parses it, so the
//     editor and the loader report the same problems).
// Both, because they answer different datasets: a constant needs no file, and per-file values belong in
// a file next to the data, not in the config. A parameter comes from one of them, never both.
import { isAbsolute, resolve } from 'node:path';
import { labelParameterNames, parseLabelsFile, type LabelParameterName } from '../../schemas/labels_file';
import { readRegularFileSync } from '../runtime/regular_file';
import { DataError } from './lightcone_record';
import {
  parameterFromSchemaName,
  parameterNames,
  schemaParameterNames,
  type AstroParams,
  type ParameterName,
} from './parameters';

/** The largest labels file read: an entry takes about 150 bytes, so this is some 400 000 lightcones. */
const maxLabelsBytes = 64 << 20;

export interface ExplicitLabels {
  /** Values shared by every lightcone. */
  fixed: Partial<AstroParams>;
  /** The labels file's path and its entries by lightcone file name, when there is one. */
  file?: { path: string; rows: ReadonlyMap<string, { values: Partial<AstroParams>; line: number }> };
}

/** Whether the config gives any label explicitly. */
export function hasExplicitLabels(labels: LabelsConfig): boolean {
  return (
    (labels.file !== null && labels.file !== undefined) ||
    Object.values(labels.fixed ?? {}).some((value) => value !== null && value !== undefined)
  );
}

/** Explicit values for one lightcone file, each with where it came from. */
export interface ExplicitValues {
  values: Partial<AstroParams>;
  provenance: Partial<Record<ParameterName, string>>;
}

/** `data.files.labels` of a config (a resolved one has every field; null means not given). */
export interface LabelsConfig {
  file?: string | null;
  fixed?: Partial<Record<LabelParameterName, number | null>>;
}

/** Reads the labels of the config (the labels file resolved against `configDir`), checked. */
export function readExplicitLabels(labels: LabelsConfig, configDir: string): ExplicitLabels {
  const fixed: Partial<AstroParams> = {};
  const given = labels.fixed ?? {};
  for (const name of labelParameterNames) {
    const value = given[name];
    if (value !== null && value !== undefined) fixed[parameterFromSchemaName[name]] = value;
  }
  if (labels.file === null || labels.file === undefined) return { fixed };
  const path = isAbsolute(labels.file) ? labels.file : resolve(configDir, labels.file);
  const expected = 'a JSON labels file (data.files.labels.file) mapping each lightcone file name to its parameters';
  const bytes = readRegularFileSync(path, expected, (message) => new DataError(message));
  if (bytes.length > maxLabelsBytes) {
    throw new DataError(
      `${path}: the labels file is ${bytes.length} bytes; at most ${maxLabelsBytes} are read. Expected ${expected}.`,
    );
  }
  const parsed = parseLabelsFile(bytes.toString('utf8'));
  if (parsed.problems.length > 0) {
    const { line, column, message } = parsed.problems[0];
    const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more problem(s))` : '';
    throw new DataError(`${path}:${line}:${column}: ${message}${more}`);
  }
  const rows = new Map<string, { values: Partial<AstroParams>; line: number }>();
  for (const row of parsed.rows) {
    const values: Partial<AstroParams> = {};
    for (const name of labelParameterNames) {
      const value = row.values[name];
      if (value === undefined) continue;
      if (given[name] !== null && given[name] !== undefined) {
        throw new DataError(
          `${name} is given twice: data.files.labels.fixed.${name} (${given[name]}) and ${path}:${row.line} ` +
            `("${row.file}": ${value}); keep one of them.`,
        );
      }
      values[parameterFromSchemaName[name]] = value;
    }
    rows.set(row.file, { values, line: row.line });
  }
  return { fixed, file: { path, rows } };
}

/**
 * The explicit values for the lightcone file `fileName` (no folder). With a labels file, every
 * lightcone file needs an entry: a file missing from it is more likely forgotten than meant.
 */
export function explicitValuesFor(
  labels: ExplicitLabels | undefined,
  fileName: string,
  filePath: string,
): ExplicitValues {
  const values: Partial<AstroParams> = {};
  const provenance: Partial<Record<ParameterName, string>> = {};
  if (!labels) return { values, provenance };
  for (const name of parameterNames) {
    const value = labels.fixed[name];
    if (value === undefined) continue;
    values[name] = value;
    provenance[name] = `data.files.labels.fixed.${schemaParameterNames[name]}`;
  }
  if (labels.file) {
    const row = labels.file.rows.get(fileName);
    if (!row) {
      throw new DataError(
        `${filePath}: the labels file ${labels.file.path} has no entry for "${fileName}"; expected one per lightcone file. ` +
          `Add "${fileName}": {} to keep the file's own values, or remove the file from the dataset.`,
      );
    }
    for (const name of parameterNames) {
      const value = row.values[name];
      if (value === undefined) continue;
      values[name] = value;
      provenance[name] = `${labels.file.path}:${row.line}`;
    }
  }
  return { values, provenance };
}
