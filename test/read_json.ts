// Tests read back the JSON that the code under test wrote (run.json, eval/regression.json, an index)
// or a fixture they wrote themselves, and assert on its fields; the declared type names the fields
// they rely on, and a file without them fails those assertions.
import { readFileSync } from 'node:fs';

/** Parses JSON text as the shape the test expects. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Reads a UTF-8 JSON file as the shape the test expects. */
export function readJson<T>(path: string): T {
  return parseJson<T>(readFileSync(path, 'utf8'));
}
