// Every lightcone of a dataset must have the same shape and resolution: the tokenisers, the patching and
// the batches assume one grid, and a cone cut at another length or simulated at another cell size would
// otherwise fail deep inside training, or worse, train on inputs that do not mean the same thing.
import {
  DataError,
  type LightconeEntry,
  type LightconeRecord,
  type LightconeSource,
  type SliceRange,
} from './lightcone_record';

/** Relative difference under which two cell sizes are the same (files store them as float32 or from integers). */
const cellTolerance = 1e-6;

const shapeText = ({ shape }: LightconeEntry) => `${shape.nx}×${shape.ny}×${shape.nt}`;

const mpc = (value: number) => `${Number(value.toPrecision(6))} Mpc`;

/** Refuses a dataset whose lightcones differ in shape or cell size, naming the first one and the first that differs. */
export function checkUniformLightcones(entries: readonly LightconeEntry[], where: string): void {
  const [first] = entries;
  if (!first) return;
  for (const entry of entries.slice(1)) {
    const { nx, ny, nt } = entry.shape;
    if (nx !== first.shape.nx || ny !== first.shape.ny || nt !== first.shape.nt) {
      throw new DataError(
        `${where}: ${first.id} is ${shapeText(first)} (x, y, slices) but ${entry.id} is ${shapeText(entry)} (x, y, slices); ` +
          'every lightcone of a dataset needs the same shape. Cut them to one shape, or keep only the ones that match.',
      );
    }
    const a = first.cellMpc;
    const b = entry.cellMpc;
    if (a !== undefined && b !== undefined && Math.abs(a - b) > cellTolerance * Math.max(a, b)) {
      throw new DataError(
        `${where}: ${first.id} has cells of ${mpc(a)} but ${entry.id} has cells of ${mpc(b)}; ` +
          'every lightcone of a dataset needs the same resolution. Keep only lightcones simulated on one grid (BOX_LEN / HII_DIM).',
      );
    }
  }
}

/**
 * A source whose listing is checked for one shape and resolution before anything reads it. The listing is
 * kept: opening a dataset lists it more than once (its fingerprint, then its conversion), and listing
 * 21cmFAST files opens every one of them.
 */
export class UniformLightcones implements LightconeSource {
  private listing: Promise<LightconeEntry[]> | undefined;

  constructor(private readonly inner: LightconeSource) {}

  get description(): string {
    return this.inner.description;
  }

  list(): Promise<LightconeEntry[]> {
    this.listing ??= this.inner.list().then((entries) => {
      checkUniformLightcones(entries, this.inner.description);
      return entries;
    });
    // A failed listing is not kept, so that a later call reads the files again.
    this.listing.catch(() => (this.listing = undefined));
    return this.listing.then((entries) => [...entries]);
  }

  load(id: string, range?: SliceRange): Promise<LightconeRecord> {
    return this.inner.load(id, range);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
