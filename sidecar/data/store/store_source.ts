// A converted store as a LightconeSource, so that everything that reads lightcones by id (`l3m data`,
// the regression tokens, the benchmarks) reads the store the same way it read the original files: the
// same ids, parameters, shapes, redshifts and source file names, and bit for bit the same voxels.
import {
  DataError,
  resolveSliceRange,
  type LightconeEntry,
  type LightconeRecord,
  type LightconeSource,
  type SliceRange,
} from '../lightcone_record';
import type { ConeStore } from './cone_store';

export class StoreSource implements LightconeSource {
  readonly description: string;

  constructor(readonly store: ConeStore) {
    this.description = store.manifest.description;
  }

  list(): Promise<LightconeEntry[]> {
    return Promise.resolve(
      this.store.cones.map((c) => ({ id: c.id, shape: { nx: c.nx, ny: c.ny, nt: c.nt }, params: c.params })),
    );
  }

  load(id: string, range?: SliceRange): Promise<LightconeRecord> {
    const index = this.store.indexOf(id);
    if (index < 0) {
      return Promise.reject(
        new DataError(`${this.store.folder}: no lightcone "${id}" in the store of ${this.description}.`),
      );
    }
    const cone = this.store.cone(index);
    const { start, end } = resolveSliceRange(range, cone.nt, cone.source);
    const history = cone.history && {
      z: Float64Array.from(cone.history.z),
      xHI: cone.history.xHI && Float64Array.from(cone.history.xHI),
      meanTb: cone.history.meanTb && Float64Array.from(cone.history.meanTb),
    };
    return Promise.resolve({
      id: cone.id,
      brightness: this.store.readSlices(index, start, end),
      shape: { nx: cone.nx, ny: cone.ny, nt: end - start },
      redshifts: this.store.redshifts(index)?.slice(start, end),
      params: cone.params,
      source: cone.source,
      firstSlice: cone.firstSlice + start,
      history,
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
