// zarrita (Zarr v3) loaded once, with a gzip codec that can also encode. zarrita is an ES module only,
// hence the dynamic import (as h5wasm's). Its own gzip codec decodes but does not encode, so the
// store registers one on node:zlib under the same name: the chunks stay the standard Zarr v3 "gzip"
// codec (RFC 1952 bytes, readable by zarr-python and any other Zarr v3 reader), written by the zlib
// that Node ships.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { isRecord } from '../../../schemas/json_value';

export type Zarrita = typeof import('zarrita');

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The Zarr v3 gzip codec on node:zlib; `level` comes from the array's metadata (store_layout.ts chooses it). */
class NodeGzipCodec {
  readonly kind = 'bytes_to_bytes';
  constructor(private readonly level: number) {}
  static fromConfig(config: { level?: number }): NodeGzipCodec {
    return new NodeGzipCodec(config?.level ?? 1);
  }
  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await gzipAsync(bytes, { level: this.level }));
  }
  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await gunzipAsync(bytes));
  }
}

let loading: Promise<Zarrita> | undefined;

/** zarrita with the encoding gzip codec registered. */
export function loadZarrita(): Promise<Zarrita> {
  loading ??= import('zarrita').then((zarr) => {
    zarr.registry.set('gzip', () =>
      Promise.resolve({
        kind: 'bytes_to_bytes' as const,
        fromConfig: (config: unknown) =>
          NodeGzipCodec.fromConfig(isRecord(config) && typeof config.level === 'number' ? { level: config.level } : {}),
      }),
    );
    return zarr;
  });
  return loading;
}
