// Element types of the safetensors format (https://github.com/huggingface/safetensors, "Format") and the
// conversions to and from float32 that checkpoints need: BF16 (the upper half of a float32), F16 (IEEE
// binary16) and F32. Byte order is little-endian as the format prescribes; TypedArray views are used only
// on little-endian hosts (every platform Node ships for), otherwise DataView decoding.

/** Bytes per element of every dtype the format defines, so that headers can be validated. */
export const dtypeBytes: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The dtypes this reader converts to float32 (a model's weights). */
export const floatDtypes = ['F32', 'F16', 'BF16'] as const;
export type FloatDtype = (typeof floatDtypes)[number];

export function isFloatDtype(dtype: string): dtype is FloatDtype {
  return (floatDtypes as readonly string[]).includes(dtype);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE binary16 bits → float32 value (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** float32 value → IEEE binary16 bits, rounding to nearest even (as torch's .half()). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // Rounding up may carry into the exponent (up to infinity), which is the correct rounded result.
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half += 1;
  return sign | half;
}

/** Decodes little-endian bytes of a float dtype into a new Float32Array. */
export function decodeToFloat32(bytes: Uint8Array, dtype: FloatDtype): Float32Array {
  const count = bytes.byteLength / dtypeBytes[dtype];
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    if (littleEndian) out.set(new Float32Array(bytes.slice().buffer));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the upper 16 bits of a float32, so widening is a shift.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    const table = halfTable();
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)]!;
  }
  return out;
}

let halfLookup: Float32Array | null = null;
/** All 65536 half values, so that decoding a large F16 tensor is one lookup per element. */
function halfTable(): Float32Array {
  if (!halfLookup) {
    halfLookup = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfLookup[bits] = halfToFloat(bits);
  }
  return halfLookup;
}

/** Encodes float32 values as little-endian bytes of a float dtype (BF16 rounds to nearest even, as torch). */
export function encodeFromFloat32(values: Float32Array, dtype: FloatDtype): Uint8Array {
  const out = new Uint8Array(values.length * dtypeBytes[dtype]);
  const view = new DataView(out.buffer);
  if (dtype === 'F32') {
    if (littleEndian) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    else for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  } else if (dtype === 'BF16') {
    const bits = new Uint32Array(Float32Array.from(values).buffer);
    for (let i = 0; i < values.length; i++) {
      const x = bits[i];
      const isNan = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;
      const rounded = isNan ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      view.setUint16(2 * i, rounded & 0xffff, true);
    }
  } else {
    for (let i = 0; i < values.length; i++) view.setUint16(2 * i, floatToHalf(values[i]), true);
  }
  return out;
}
