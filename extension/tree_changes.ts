// Which parts of a tree view a new snapshot changes (the Runs and Experiments views). VS Code's tree
// keeps a map from row handles to our items; a refresh of the root (or of a group) empties that map
// for every row below it until the workbench has fetched the rows again. A command chosen from a
// row's context menu or inline action in that window gets no item: a run command then asks for a run,
// and Train falls back to the active editor's config. So a view refreshes as little as it can:
// nothing when nothing shown changed, one row when one row's content changed, one group when its rows
// came, went or moved, and the root only when the groups did.
// No vscode import, so this is tested in plain Node.

/** One row of a view: a stable key (a path) and everything it shows, as one string. */
export interface Row {
  key: string;
  signature: string;
}

/** A view's content: its groups in display order, each with its rows in display order. */
export type Snapshot = ReadonlyMap<string, readonly Row[]>;

export type TreeChange =
  | { kind: 'none' }
  | { kind: 'root' }
  /** Only these groups' row lists and these rows changed. */
  | { kind: 'elements'; groups: string[]; rows: string[] };

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** The smallest refresh that takes a view from `before` to `after`. */
export function treeChanges(before: Snapshot, after: Snapshot): TreeChange {
  if (!sameOrder([...before.keys()], [...after.keys()])) return { kind: 'root' };
  const groups: string[] = [];
  const rows: string[] = [];
  for (const [group, now] of after) {
    const then = before.get(group) ?? [];
    if (
      !sameOrder(
        then.map((r) => r.key),
        now.map((r) => r.key),
      )
    ) {
      groups.push(group);
      continue;
    }
    now.forEach((row, i) => {
      if (row.signature !== then[i].signature) rows.push(row.key);
    });
  }
  return groups.length === 0 && rows.length === 0 ? { kind: 'none' } : { kind: 'elements', groups, rows };
}

/** Both changes at once (several snapshots can be taken before the view is told). */
export function mergeChanges(a: TreeChange, b: TreeChange): TreeChange {
  if (a.kind === 'none') return b;
  if (b.kind === 'none') return a;
  if (a.kind === 'root' || b.kind === 'root') return { kind: 'root' };
  return {
    kind: 'elements',
    groups: [...new Set([...a.groups, ...b.groups])],
    rows: [...new Set([...a.rows, ...b.rows])],
  };
}

/**
 * Takes a view's snapshots one at a time and tells the view what changed once the last one is done:
 * reading the folder while VS Code asked for rows let two reads answer with different items under
 * the same ids, which left an expanded group with no rows under it.
 */
export class SnapshotLoader {
  private loading: Promise<void> | null = null;
  private again = false;
  private pending: TreeChange = { kind: 'none' };

  /** `load` takes a snapshot and says what it changed; `announce` tells the view. */
  constructor(
    private readonly load: () => Promise<TreeChange>,
    private readonly announce: (change: TreeChange) => void,
  ) {}

  /** Resolves when the view shows the folder as it is now (one more load after the one in flight). */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          this.pending = mergeChanges(this.pending, await this.load());
        } while (this.again);
      } finally {
        // A load that threw must not leave every later refresh waiting on it: the next one reads again.
        this.loading = null;
      }
      const change = this.pending;
      this.pending = { kind: 'none' };
      if (change.kind !== 'none') this.announce(change);
    })();
    return this.loading;
  }

  /** The load in flight, if any: getChildren waits for it so that it answers from a whole snapshot. */
  get inFlight(): Promise<void> | null {
    return this.loading;
  }
}

/**
 * What to pass to a tree's onDidChangeTreeData for a change: null for nothing, undefined for the root,
 * else the changed groups and rows, found by their keys.
 */
export function changedNodes<G, R>(
  change: TreeChange,
  groups: ReadonlyMap<string, G>,
  rows: ReadonlyMap<string, R>,
): (G | R)[] | undefined | null {
  if (change.kind === 'none') return null;
  if (change.kind === 'root') return undefined;
  const nodes = [...change.groups.map((key) => groups.get(key)), ...change.rows.map((key) => rows.get(key))];
  return nodes.filter((node): node is G | R => node !== undefined);
}
