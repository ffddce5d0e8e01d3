// The Chromium that the browser and e2e tests drive: Debian's package by default, or the executable
// that L3M_CHROMIUM names (another build, a CI image's own path). Read when a test starts a browser,
// so that the variable works however the test process was started.
import { existsSync } from 'node:fs';

export const defaultChromium = '/usr/bin/chromium';

/** The Chromium executable to launch; throws naming the path and the fix when it does not exist. */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.L3M_CHROMIUM || defaultChromium;
  if (!existsSync(path)) {
    const origin = env.L3M_CHROMIUM ? 'L3M_CHROMIUM names' : 'the default is';
    throw new Error(
      `Chromium was not found at ${path} (${origin} that path). Install Debian's chromium (apt-get install chromium) or set L3M_CHROMIUM to its path.`,
    );
  }
  return path;
}
