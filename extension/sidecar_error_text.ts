// The text a notification shows for an error the sidecar answered with. A config error's message lists
// every diagnostic with the config's absolute path; the notification says it once, in the workspace's
// own terms (paths relative to its folder), and leaves the list to the Problems panel, where the
// language server already shows each one at its place. No vscode import, so the unit tests read it.
import { isAbsolute, sep } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes, type ConfigErrorData } from '../sidecar/protocol/messages';
import { errorMessage } from '../sidecar/protocol/error_message';
import { isRecord } from '../schemas/json_value';

// The wire carries the code as a plain number.
const configInvalidCode: number = ErrorCodes.configInvalid;

function isConfigDiagnostic(value: unknown): value is ConfigErrorData['diagnostics'][number] {
  return (
    isRecord(value) &&
    typeof value.line === 'number' &&
    typeof value.column === 'number' &&
    (value.severity === 'error' || value.severity === 'warning') &&
    typeof value.message === 'string' &&
    typeof value.path === 'string'
  );
}

/** The data of a configInvalid error as the sidecar sends it; anything else is shown by its message alone. */
export function isConfigErrorData(value: unknown): value is ConfigErrorData {
  return (
    isRecord(value) &&
    value.kind === 'config-invalid' &&
    typeof value.file === 'string' &&
    Array.isArray(value.diagnostics) &&
    value.diagnostics.every(isConfigDiagnostic)
  );
}

/**
 * `text` with every absolute path inside one of `folders` written relative to it (the longest folder
 * first, so a nested workspace folder wins). Paths elsewhere stay absolute: they say where they are.
 */
export function relativeToWorkspace(text: string, folders: readonly string[]): string {
  let out = text;
  const sorted = folders.filter((f) => isAbsolute(f)).sort((a, b) => b.length - a.length);
  for (const folder of sorted) {
    const prefix = folder.endsWith(sep) ? folder : `${folder}${sep}`;
    out = out.split(prefix).join('');
  }
  return out;
}

/** Whether an error is a config error with its diagnostics (the Problems panel shows them). */
export function isConfigInvalid(error: unknown): boolean {
  return error instanceof ResponseError && error.code === configInvalidCode && isConfigErrorData(error.data);
}

/**
 * One line for a notification: a config error states its count and its first error once (the
 * message from the sidecar repeats every diagnostic), any other error its message; paths relative to
 * the workspace folders.
 */
export function describeSidecarError(error: unknown, workspaceFolders: readonly string[] = []): string {
  let text: string;
  if (error instanceof ResponseError) {
    const data = error.code === configInvalidCode && isConfigErrorData(error.data) ? error.data : undefined;
    const errors = data?.diagnostics.filter((d) => d.severity === 'error') ?? [];
    const first = errors[0];
    if (data && first) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see the Problems panel)` : '';
      text = `${data.file} has ${errors.length} error${errors.length === 1 ? '' : 's'}: line ${first.line}, column ${first.column}: ${first.message}${more}`;
    } else {
      text = error.message;
    }
  } else {
    text = errorMessage(error);
  }
  return relativeToWorkspace(text, workspaceFolders);
}
