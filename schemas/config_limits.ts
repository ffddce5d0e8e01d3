// The size and nesting limits of an experiment config, checked before any parsing. The JSON
// language service and jsonc-parser parse and validate recursively, so a text nested thousands of
// levels deep overflows the stack; and their cost grows with the text, so a 50 MB file takes many
// seconds on every keystroke. A config is a few kB nested at most 5 levels (the schema's deepest
// field is data.simulator.priors.<name>.min), so the limits leave ample room for real ones.
import { createScanner, type SyntaxKind } from 'jsonc-parser';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-json-languageservice';
import { diagnosticSource } from './config_context';

// jsonc-parser declares SyntaxKind a const enum, which isolated modules cannot read at run time;
// the types check that these numbers are the members named.
const openBrace: SyntaxKind.OpenBraceToken = 1;
const closeBrace: SyntaxKind.CloseBraceToken = 2;
const openBracket: SyntaxKind.OpenBracketToken = 3;
const closeBracket: SyntaxKind.CloseBracketToken = 4;
const endOfFile: SyntaxKind.EOF = 17;

/** The largest config validated, in UTF-8 bytes. */
export const maxConfigBytes = 1 << 20;

/** The deepest nesting validated; the root object is level 1. */
export const maxConfigDepth = 64;

function mebibytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** The diagnostic of a config of `bytes` bytes over the size limit, or undefined within it. */
export function configSizeDiagnostic(bytes: number): Diagnostic | undefined {
  if (bytes <= maxConfigBytes) return undefined;
  return limitDiagnostic(
    0,
    0,
    'too-large',
    `The config is ${mebibytes(bytes)} (${bytes.toLocaleString('en-US')} bytes); L3M Studio reads configs of at most ` +
      `${mebibytes(maxConfigBytes).replace('.0', '')} (${maxConfigBytes.toLocaleString('en-US')} bytes), and an experiment config is a few kB. ` +
      'Check that this is the config you meant; data belongs in files that data.path names, not in the config.',
  );
}

/**
 * The diagnostic of a text that is too large or nested too deeply to validate, or undefined when it
 * is within the limits. Linear in the text and without recursion: the scanner reads tokens, so
 * brackets inside strings and comments do not count.
 */
export function configLimitDiagnostic(text: string): Diagnostic | undefined {
  const size = configSizeDiagnostic(Buffer.byteLength(text, 'utf8'));
  if (size) return size;
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== endOfFile; token = scanner.scan()) {
    if (token === openBrace || token === openBracket) {
      if (++depth > maxConfigDepth) {
        return limitDiagnostic(
          scanner.getTokenStartLine(),
          scanner.getTokenStartCharacter(),
          'too-deep',
          `The config is nested deeper than ${maxConfigDepth} levels (here, at level ${depth}); an experiment config has at most 5. ` +
            'Remove the extra brackets; nothing past this point is validated.',
        );
      }
    } else if (token === closeBrace || token === closeBracket) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function limitDiagnostic(line: number, character: number, code: string, message: string): Diagnostic {
  return {
    range: { start: { line, character }, end: { line, character: character + 1 } },
    severity: DiagnosticSeverity.Error,
    source: diagnosticSource,
    code,
    message,
    // The whole document is the subject: callers that map a diagnostic to a JSON path (the RPC
    // server's config errors) would otherwise parse the text this diagnostic refuses to parse.
    data: { path: '' },
  };
}
