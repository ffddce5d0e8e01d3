// The stdin framing guard of `l3m serve` (sidecar/rpc/framing_guard.ts): a well-framed stream passes
// unchanged however it is cut into chunks; each kind of broken framing fails the stream with a
// message naming what was received, after passing on the good messages before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingGuard, FramingError } from '../../sidecar/rpc/framing_guard';

function frame(body: string, extraHeaders = ''): Buffer {
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`);
}

/** Feeds the chunks and returns what came out and the error, if any. */
async function feed(
  chunks: Buffer[],
  limits?: ConstructorParameters<typeof FramingGuard>[0],
): Promise<{ out: Buffer; error: Error | null }> {
  const guard = new FramingGuard(limits);
  const out: Buffer[] = [];
  guard.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<Error | null>((res) => {
    guard.on('end', () => res(null));
    guard.on('error', (e) => res(e));
  });
  for (const chunk of chunks) guard.write(chunk);
  guard.end();
  const error = await ended;
  return { out: Buffer.concat(out), error };
}

const good = Buffer.concat([
  frame('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"clientName":"é ∑"}}'),
  frame(
    '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}',
    'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n',
  ),
  frame(''),
  frame('\r\n\r\nContent-Length: 3\r\n\r\n'), // framing-like bytes inside a body are body bytes
]);

test('a well-framed stream passes unchanged, cut at every byte', async () => {
  for (let cut = 0; cut <= good.length; cut++) {
    const { out, error } = await feed([good.subarray(0, cut), good.subarray(cut)]);
    assert.equal(error, null, `cut at ${cut}: ${error?.message}`);
    assert.ok(out.equals(good), `cut at ${cut}`);
  }
  const { out, error } = await feed([...good].map((b) => Buffer.from([b])));
  assert.equal(error, null);
  assert.ok(out.equals(good));
});

const bad: [string, Buffer, RegExp][] = [
  [
    'no Content-Length',
    Buffer.from('Content-Type: x\r\n\r\n{}'),
    /^no Content-Length header \(message header at byte \d+ of the stream, received so far: "Content-Type: x\\r\\n\\r\\n"\)/,
  ],
  ['negative', Buffer.from('Content-Length: -5\r\n\r\n{}'), /^Content-Length "-5" is not a byte count/],
  ['non-numeric', Buffer.from('Content-Length: 12abc\r\n\r\n{}'), /^Content-Length "12abc" is not a byte count/],
  ['empty', Buffer.from('Content-Length:\r\n\r\n'), /^Content-Length "" is not a byte count/],
  ['twice', Buffer.from('Content-Length: 2\r\ncontent-length: 2\r\n\r\n{}'), /^2 Content-Length headers/],
  [
    'too long',
    Buffer.from('Content-Length: 1000001\r\n\r\n'),
    /^Content-Length 1000001 is above the 1000000-byte limit/,
  ],
  ['binary', Buffer.from([0x00, 0xff, 0x13]), /^byte 0x00 at offset 0, where a header name was expected/],
  ['binary value', Buffer.from('Content-Length: \xff\r\n\r\n', 'latin1'), /^byte 0xff at offset 16 in a header value/],
  ['no colon', Buffer.from('hello\r\n\r\n'), /^a header line without ":" at offset 0/],
  ['space in name', Buffer.from('hello world'), /^byte 0x20 at offset 5, where a header name was expected/],
  ['lone CR', Buffer.from('Content-Length: 2\rX'), /^byte 0x58 at offset 18 after "\\r", where "\\n" was expected/],
  ['empty name', Buffer.from(': 2\r\n\r\n'), /^a header line with an empty name at offset 0/],
  ['no header end', Buffer.from('X-A: ' + 'a'.repeat(200)), /^no header end \("\\r\\n\\r\\n"\) within 100 bytes/],
];

test('each broken framing fails the stream with what was received, after the good messages before it', async () => {
  for (const [name, bytes, message] of bad) {
    const { out, error } = await feed([good, bytes], { maxHeaderBytes: 100, maxContentLength: 1_000_000 });
    assert.ok(error instanceof FramingError, `${name}: ${String(error)}`);
    assert.match(error.message, message, name);
    assert.match(error.message, /each message must start with "Content-Length: <bytes>\\r\\n"/, name);
    assert.match(error.message, new RegExp(`message header at byte ${good.length} of the stream`), name);
    assert.ok(out.subarray(0, good.length).equals(good), `${name}: the good messages before it pass`);
  }
});
