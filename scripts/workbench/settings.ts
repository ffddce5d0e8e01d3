// User settings written into a code-server user-data folder before it starts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../../schemas/json_value';

/**
 * Settings that keep the workbench quiet and predictable: no welcome page, no walkthroughs, no
 * recommendations or AI chat side bar opening on top of the views, no telemetry or update checks.
 * Both `npm start` and the e2e harness use them; the harness adds its own on top.
 */
export const quietWorkbenchSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
};

/**
 * Merges `settings` into <userDataDir>/User/settings.json. Keys the file already has win when
 * `keepExisting` is true, so that `npm start` never overwrites what a user changed in the workbench.
 */
export function writeUserSettings(userDataDir: string, settings: Record<string, unknown>, keepExisting: boolean): void {
  const folder = join(userDataDir, 'User');
  const file = join(folder, 'settings.json');
  mkdirSync(folder, { recursive: true });
  let existing: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isRecord(parsed)) existing = parsed;
      else if (keepExisting) return; // not an object: the user's to fix, as with a syntax error
    } catch {
      // A settings file with comments or a syntax error is the user's: leave it alone.
      if (keepExisting) return;
    }
  }
  const merged = keepExisting ? { ...settings, ...existing } : { ...existing, ...settings };
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
}
