// Guards for JSON read from a file or the wire, whose type is only known once checked: the
// language server, the CLI and the extension narrow parsed values with these rather than casting.

/** A JSON object: not null and not an array, so that its keys can be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An array whose every element is a number. */
export function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}
