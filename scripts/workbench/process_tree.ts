// Ends a process and everything it started, by PID. code-server forks an extension host, a file
// watcher, pty hosts and terminal shells, and node-pty puts each shell in its own session (setsid),
// so killing the process group is not enough: the tree is read from /proc and every descendant is
// signalled by its own PID. Nothing here matches processes by name, so other people's processes on a
// shared machine are never touched.
import { readFileSync, readdirSync } from 'node:fs';

/** The parent PID of `pid` from /proc/<pid>/stat, or undefined when the process is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces or parentheses,
    // so the fields are counted from the last closing parenthesis: state, then ppid.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(afterName[1]);
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants, parents before children. Empty when /proc is unavailable. */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it is dead for our purpose (its parent will reap it).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: nothing to do.
  }
}

/**
 * Sends SIGTERM to `root` and every descendant, waits up to `graceMs` for them to exit, then sends
 * SIGKILL to whatever is left. The tree is read once before signalling, because children that lose
 * their parent are re-parented to init and could no longer be found afterwards.
 */
export async function killProcessTree(root: number, graceMs = 5000): Promise<void> {
  const tree = descendantsOf(root);
  const targets = tree.length > 0 ? tree : [root];
  for (const pid of targets) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (targets.some(isAlive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Processes started during the grace period (a shell respawning, say) are caught by a second read.
  for (const pid of new Set([...targets, ...descendantsOf(root)])) {
    if (isAlive(pid)) signal(pid, 'SIGKILL');
  }
}
