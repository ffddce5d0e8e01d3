// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum a zip directory stores for each
// member. Node has zlib.crc32 from 20.15 and 22.2, but older runtimes that run the sidecar (VS Code's
// Electron builds of Node 20) lack it, fflate computes its CRC only internally and exports none, and the
// package that yauzl uses is not a public module; so the table version below is the fallback.
import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

/** CRC-32 by a 256-entry table; `previous` continues a checksum over earlier bytes. */
export function crc32Table(bytes: Uint8Array, previous = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `bytes`, continuing from `previous` (the checksum of the bytes before them). */
export const crc32: (bytes: Uint8Array, previous?: number) => number =
  typeof native === 'function' ? (bytes, previous = 0) => native(bytes, previous) : crc32Table;
