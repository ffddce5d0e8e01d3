// What a caught value says, for messages: `catch (error)` gives `unknown`, since anything can be
// thrown (a string from a library, a DOMException, an object), and a cast to Error would print
// "undefined" for those. Shared by the sidecar, the extension and the scripts; imports nothing.

/** The message of an Error, or the value itself as text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** A Node system error's code (ENOENT, EISDIR…), if the value carries one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' ? code : undefined;
}

/** The code when there is one (ENOENT), otherwise the message: the short reason in "cannot read X (…)". */
export function errorReason(error: unknown): string {
  return errorCode(error) ?? errorMessage(error);
}
