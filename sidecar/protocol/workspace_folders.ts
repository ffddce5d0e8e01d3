// Where a config's workspace and runs folder are, as the `l3m` commands and the editor's hover both need them.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The workspace of a config: the nearest folder up holding .git, package.json or .vscode; else the config's folder. */
export function workspaceOf(configPath: string): string {
  const start = dirname(resolve(configPath));
  for (let dir = start; ; dir = dirname(dir)) {
    if (['.git', 'package.json', '.vscode'].some((marker) => existsSync(join(dir, marker)))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** The runs folder of a config: $L3M_RUNS_DIR, else runs/ in its workspace. */
export function defaultRunsDir(configPath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.L3M_RUNS_DIR) return resolve(env.L3M_RUNS_DIR);
  return join(workspaceOf(configPath), 'runs');
}
