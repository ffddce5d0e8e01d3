// Which config file stands for a run, for Open Config and the inspector's data preview. run.json
// names the file the run was started from (`configPath`), but run.json can come from anyone, and
// that path can name any file on the machine. So the source config is used only when, links
// followed, it lies inside the run folder or one of the workspace folders — where a user keeps the
// experiments they open — and only in a trusted workspace. Otherwise the run's own config.json
// (the resolved copy the sidecar wrote) stands for it, itself refused when it is a link out of the
// run folder. Node only, no `vscode`.
import { existsSync } from 'node:fs';
import { confinedPath, realPathWithin } from '../sidecar/protocol/confined_path';

export type RunConfigChoice = { path: string; note?: string } | { problem: string };

/**
 * The config to use for the run in `runDir`: `configPath` when it may be used, else config.json.
 * `note` says why the source config was passed over, when the user would expect it.
 */
export async function runConfigToOpen(
  runDir: string,
  configPath: string | undefined,
  workspaceFolders: readonly string[],
  trusted: boolean,
): Promise<RunConfigChoice> {
  let note: string | undefined;
  if (configPath && trusted) {
    const inside = await realPathWithin(configPath, [runDir, ...workspaceFolders]);
    if (inside) return { path: inside };
    if (existsSync(configPath)) {
      note =
        `the run's own config.json is shown: the config it was started from, ${configPath}, lies outside the run folder and the ` +
        'workspace folders, and L3M Studio opens only files there. Add its folder to the workspace to open it from the run.';
    }
  } else if (configPath) {
    note = `the run's own config.json is shown: in an untrusted workspace L3M Studio does not open the file that run.json names as its source (${configPath}).`;
  }
  const own = await confinedPath(runDir, 'config.json');
  if (own.kind === 'inside') return note ? { path: own.path, note } : { path: own.path };
  if (own.kind === 'missing')
    return {
      problem: `the run ${runDir} has no config.json${configPath ? ` and its source config ${configPath} cannot be used` : ''}.`,
    };
  return { problem: own.problem };
}
