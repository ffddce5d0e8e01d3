// Checks the framing of the JSON-RPC byte stream before vscode-jsonrpc's reader sees it, and passes
// the bytes through unchanged. The reader trusts the framing: it reports a missing or non-numeric
// Content-Length and then goes on parsing the rest of the body as headers, takes "-5" for a length,
// and waits for ever on bytes that never hold a header end. After any of these the stream cannot be
// resynchronised, so the guard stops it with a FramingError that says what was received, and the
// server treats that as fatal (sidecar/cli/serve.ts).
import { Transform, type TransformCallback } from 'node:stream';

/** The framing of the input is broken; nothing after it can be read as a message. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

export interface FramingLimits {
  /** Bytes of one header section; the client sends two short header lines. */
  maxHeaderBytes: number;
  /** Bytes of one message body; the protocol's messages carry paths and settings, not data. */
  maxContentLength: number;
}

export const defaultFramingLimits: FramingLimits = { maxHeaderBytes: 8192, maxContentLength: 64 * 1024 * 1024 };

const expected =
  'each message must start with "Content-Length: <bytes>\\r\\n", optional "Name: value\\r\\n" lines and an empty line (vscode-jsonrpc framing)';

/** RFC 9110 token characters, which a header name consists of. */
function isTokenByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(byte))
  );
}

/** A header value: visible ASCII, space and tab. */
function isValueByte(byte: number): boolean {
  return byte === 0x09 || (byte >= 0x20 && byte <= 0x7e);
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** What the header held so far, printable and short, for the error message. */
function shown(header: number[]): string {
  const text = Buffer.from(header.slice(0, 80)).toString('latin1').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return header.length > 80 ? `${text}…` : text;
}

/**
 * Validates the framing incrementally, whatever the chunk boundaries, and passes every byte of a
 * well-framed stream on as it came. At the first violation it passes on the bytes before it and
 * fails the stream with a FramingError.
 */
export class FramingGuard extends Transform {
  /** Body bytes still to pass before the next header begins; -1 while reading a header. */
  private bodyLeft = -1;
  /** The current header's bytes so far. */
  private header: number[] = [];
  /** Bytes of the current header line before its "\r", whether its ":" was seen, whether a "\r" ended it. */
  private lineLength = 0;
  private inValue = false;
  private afterCr = false;
  /** Byte offset of the current header in the stream, and of the current chunk, for the error message. */
  private headerStart = 0;
  private offset = 0;

  constructor(private readonly limits: FramingLimits = defaultFramingLimits) {
    // Not destroyed on the error: a destroyed stream closes, vscode-jsonrpc then closes the whole
    // connection, and the server could no longer tell the client why it stops or that its runs were
    // cancelled. The guard just passes nothing more. The end of the input still closes it, which
    // is how the server learns that its client went away.
    super({ autoDestroy: false });
    this.once('end', () => this.destroy());
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        continue;
      }
      if (this.bodyLeft === 0) {
        this.bodyLeft = -1;
        this.header = [];
        this.lineLength = 0;
        this.inValue = false;
        this.afterCr = false;
        this.headerStart = this.offset + i;
      }
      const problem = this.headerByte(chunk[i]);
      if (problem !== null) {
        if (i > 0) this.push(chunk.subarray(0, i));
        callback(
          new FramingError(
            `${problem} (message header at byte ${this.headerStart} of the stream, received so far: "${shown(this.header)}"); ${expected}.`,
          ),
        );
        return;
      }
      i += 1;
    }
    this.offset += chunk.length;
    callback(null, chunk);
  }

  /** Takes one header byte; returns what is wrong, or null. Sets bodyLeft at the header's end. */
  private headerByte(byte: number): string | null {
    const at = this.header.length;
    this.header.push(byte);
    if (at >= this.limits.maxHeaderBytes)
      return `no header end ("\\r\\n\\r\\n") within ${this.limits.maxHeaderBytes} bytes`;
    if (this.afterCr) {
      if (byte !== 0x0a) return `byte ${hex(byte)} at offset ${at} after "\\r", where "\\n" was expected`;
      this.afterCr = false;
      if (this.lineLength === 0) return this.endOfHeader();
      this.lineLength = 0;
      this.inValue = false;
      return null;
    }
    if (byte === 0x0d) {
      if (this.lineLength > 0 && !this.inValue) return `a header line without ":" at offset ${at - this.lineLength}`;
      this.afterCr = true;
      return null;
    }
    this.lineLength += 1;
    if (this.inValue) return isValueByte(byte) ? null : `byte ${hex(byte)} at offset ${at} in a header value`;
    if (byte === 0x3a) {
      if (this.lineLength === 1) return `a header line with an empty name at offset ${at}`;
      this.inValue = true;
      return null;
    }
    return isTokenByte(byte) ? null : `byte ${hex(byte)} at offset ${at}, where a header name was expected`;
  }

  /** The empty line after the headers: checks Content-Length and starts the body. */
  private endOfHeader(): string | null {
    const lines = Buffer.from(this.header).toString('latin1').split('\r\n').slice(0, -2);
    const values = lines
      .filter((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === 'content-length')
      .map((l) => l.slice(l.indexOf(':') + 1).trim());
    if (values.length === 0) return 'no Content-Length header';
    if (values.length > 1) return `${values.length} Content-Length headers`;
    const value = values[0];
    if (!/^\d+$/.test(value)) return `Content-Length "${value}" is not a byte count (a non-negative integer)`;
    const length = Number(value);
    if (length > this.limits.maxContentLength)
      return `Content-Length ${length} is above the ${this.limits.maxContentLength}-byte limit of one message`;
    this.bodyLeft = length;
    return null;
  }
}
