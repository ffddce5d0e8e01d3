// Every typed array of a panel message moved into one ArrayBuffer before the message is posted.
// VS Code hands a webview message's binary parts from the extension host to the window as separate
// arguments of one call, one per distinct ArrayBuffer, and that call's wire format counts its
// arguments in a single byte. A message with more than 253 buffers (the webview handle and the JSON
// take two arguments) lost all but the first (count mod 256) of them without a word, and the page
// rebuilt the rest as empty arrays: Compare on 5 runs of 31 metrics each (4 + 2 × 31 typed arrays
// per run, 332 arguments) drew the first run and 2 metrics of the second. Packed, a message has one
// buffer whatever it holds; the page gets views of it at their offsets, which VS Code carries over.
// Bare ArrayBuffers (the inspector's .npy bytes) are left alone: the page reads them as buffers.

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

const typedArrayTypes = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

/** A view of `buffer` at `byteOffset` of the same type and length as `view`, holding a copy of its bytes. */
function copyInto(view: TypedArray, buffer: ArrayBuffer, byteOffset: number): TypedArray {
  new Uint8Array(buffer, byteOffset, view.byteLength).set(
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
  );
  // A Buffer is a Uint8Array, which the page reads it as anyway.
  const type = typedArrayTypes.find((t) => view instanceof t) ?? Uint8Array;
  return new type(buffer, byteOffset, view.length);
}

function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** The typed arrays of a JSON-like value (plain objects and arrays), each once, in the order JSON would meet them. */
function collect(value: unknown, found: Set<TypedArray>): void {
  if (isTypedArray(value)) found.add(value);
  else if (Array.isArray(value)) for (const item of value) collect(item, found);
  else if (typeof value === 'object' && value !== null && !(value instanceof ArrayBuffer))
    for (const item of Object.values(value)) collect(item, found);
}

/** A copy of `value` with each typed array replaced by its packed view; everything else is shared. */
function rebuild(value: unknown, packed: Map<TypedArray, TypedArray>): unknown {
  if (isTypedArray(value)) return packed.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => rebuild(item, packed));
  if (typeof value === 'object' && value !== null && !(value instanceof ArrayBuffer))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rebuild(item, packed)]));
  return value;
}

/**
 * `message` with all its typed arrays copied into one ArrayBuffer, each at an offset aligned to 8
 * bytes (a Float64Array view needs it), with the same type, length and values; the message itself is
 * not changed. A message with at most one typed array comes back as it is.
 */
export function packTypedArrays<T>(message: T): T {
  const found = new Set<TypedArray>();
  collect(message, found);
  if (found.size <= 1) return message;
  const views = [...found];
  const offsets: number[] = [];
  let size = 0;
  for (const view of views) {
    size = Math.ceil(size / 8) * 8;
    offsets.push(size);
    size += view.byteLength;
  }
  const buffer = new ArrayBuffer(size);
  const packed = new Map<TypedArray, TypedArray>();
  views.forEach((view, i) => packed.set(view, copyInto(view, buffer, offsets[i])));
  // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- rebuild keeps the message's shape: it replaces only typed arrays, each by one of its own type and length
  return rebuild(message, packed) as T;
}

/** The most ArrayBuffers one webview message can carry: 255 arguments less the handle and the JSON. */
export const maxMessageBuffers = 253;

/** The distinct ArrayBuffers a message would travel with: its bare buffers and those under its typed arrays. */
export function messageBufferCount(message: unknown): number {
  const buffers = new Set<ArrayBufferLike>();
  const visit = (value: unknown): void => {
    if (value instanceof ArrayBuffer) buffers.add(value);
    else if (ArrayBuffer.isView(value)) buffers.add(value.buffer);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(message);
  return buffers.size;
}
