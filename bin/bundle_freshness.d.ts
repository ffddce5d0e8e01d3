/** What the bundle is built from, relative to the package root. */
export const bundleSources: readonly string[];
/** Why `bundle` must be rebuilt from the sources under `root`, or undefined when it is current. */
export function rebuildReason(root: string, bundle: string): string | undefined;
