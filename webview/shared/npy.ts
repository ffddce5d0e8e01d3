// A reader for NumPy .npy files (format versions 1-3) holding little-endian float32 or float64
// arrays in C order, the format of samples/*.npy. Errors name the file's problem and never throw
// past `parseNpy`: a panel shows what it could not read instead of going blank.

export interface NpyArray {
  shape: number[];
  /** Values in C order, converted to float32. */
  data: Float32Array;
}

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

export function parseNpy(buffer: ArrayBuffer, name = 'the .npy file'): { array: NpyArray } | { error: string } {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    return { error: `${name} is not a NumPy .npy file (${bytes.length} bytes, no \\x93NUMPY magic); regenerate the sample` };
  }
  const major = bytes[6];
  const view = new DataView(buffer);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) return { error: `${name} is truncated inside its header` };
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) return { error: `${name} has an unreadable header: ${header.trim()}` };
  if (fortran === 'True') return { error: `${name} is in Fortran order; write it in C order (numpy.ascontiguousarray)` };
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) return { error: `${name} has a bad shape (${shapeText})` };
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLength;
  const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (itemSize === 0) return { error: `${name} holds dtype ${descr}; the panels read little-endian float32 (<f4) or float64 (<f8)` };
  if (bytes.length - offset < count * itemSize) {
    return { error: `${name} is truncated: shape (${shape.join(', ')}) needs ${count * itemSize} data bytes, the file has ${bytes.length - offset}` };
  }
  let data: Float32Array;
  if (itemSize === 4) {
    data = offset % 4 === 0 ? new Float32Array(buffer, offset, count) : new Float32Array(buffer.slice(offset, offset + count * 4));
  } else {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + 8 * i, true);
  }
  return { array: { shape, data } };
}
