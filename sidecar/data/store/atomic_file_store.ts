// The Zarr store the conversion writes through: @zarrita/storage's FileSystemStore for reading, with
// every file written under a temporary name and renamed into place, so that a killed conversion never
// leaves a half-written chunk under a chunk's name (a resumed conversion then finds only whole chunks);
// it counts the bytes written for the progress line. @zarrita/storage is an ES module only, hence the
// dynamic import.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

type AbsolutePath = `/${string}`;
type FileSystemStore = InstanceType<typeof import('@zarrita/storage/fs').default>;

export class AtomicFileStore {
  bytesWritten = 0;
  private readonly writing = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly inner: FileSystemStore,
  ) {}

  static async open(root: string): Promise<AtomicFileStore> {
    const module = await import('@zarrita/storage/fs');
    const Store = module.default;
    return new AtomicFileStore(root, new Store(root));
  }

  get(key: AbsolutePath): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.root}: the store was closed after a failed write`));
    const writing = this.write(key, value);
    this.writing.add(writing);
    const forget = () => this.writing.delete(writing);
    writing.then(forget, forget);
    return writing;
  }

  /**
   * Refuses every later write and resolves once none is under way, whether they succeeded or failed: chunks still
   * being encoded when a write failed would otherwise come to be written after the caller has cleaned up.
   */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing.size > 0) await Promise.allSettled([...this.writing]);
  }

  private async write(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const file = join(this.root, key.slice(1));
    await mkdir(dirname(file), { recursive: true });
    // One writer per store folder (the conversion holds its lock), so a fixed temporary name is enough.
    const temporary = `${file}.partial`;
    await writeFile(temporary, value);
    await rename(temporary, file);
    this.bytesWritten += value.byteLength;
  }
}
