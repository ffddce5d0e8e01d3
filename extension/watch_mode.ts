// How the Runs view follows the runs folder: through the kernel's change events (inotify), or by
// polling. inotify reports only the changes made through this machine's kernel; on a network or FUSE
// file system the writes of other machines (a cluster's compute nodes writing to a shared /scratch,
// the host of a VirtualBox or WSL share) never raise an event there, so a view fed by events alone
// would never see a cluster run progress. On those file systems the folder is polled instead.
// The file system is recognised by the `f_type` magic number that statfs(2) reports (Linux's
// include/uapi/linux/magic.h, and each file system's own source for those outside the kernel).
// No vscode import, so this is tested in plain Node.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode, errorMessage } from '../sidecar/protocol/error_message';

/** The `l3m.watchPolling` setting: decide from the file system, or force one way. */
export type WatchPollingSetting = 'auto' | 'always' | 'never';

export const watchPollingSettings: readonly WatchPollingSetting[] = ['auto', 'always', 'never'];

/** File systems whose remote changes inotify does not see, by statfs magic number. */
export const networkFileSystems: ReadonlyMap<number, string> = new Map([
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xff534d42, 'CIFS'],
  [0xfe534d42, 'SMB2/3'],
  [0x0bd00bd0, 'Lustre'],
  [0x47504653, 'GPFS (IBM Storage Scale)'],
  [0x19830326, 'BeeGFS'],
  [0x65735546, 'FUSE (sshfs, GlusterFS, s3fs, …)'],
  [0x00c36400, 'CephFS'],
  [0x5346414f, 'AFS'],
  [0x6b414653, 'OpenAFS'],
  [0x01021997, '9p (WSL, QEMU shares)'],
  [0xaad7aaea, 'PanFS'],
  [0x20030528, 'OrangeFS'],
  [0x01161970, 'GFS2'],
  [0x7461636f, 'OCFS2'],
  [0x73757245, 'Coda'],
  [0x564c, 'NCP'],
  [0x786f4256, 'VirtualBox shared folder'],
]);

/** The file system's name when it is one of the network or FUSE file systems above. */
export function networkFileSystemName(magic: number): string | undefined {
  // f_type is unsigned; a platform that passes it through a signed 32-bit integer gives the high magics negative.
  return networkFileSystems.get(magic >>> 0);
}

export interface WatchMode {
  polling: boolean;
  /** Why, in a sentence for the output channel and the Runs view. */
  reason: string;
}

/** The decision from the setting, the platform and the statfs magic number (undefined: unknown). */
export function decideWatchMode(setting: WatchPollingSetting, platform: NodeJS.Platform, magic?: number): WatchMode {
  if (setting === 'always') return { polling: true, reason: 'l3m.watchPolling is "always"' };
  if (setting === 'never') return { polling: false, reason: 'l3m.watchPolling is "never"' };
  // Only Linux reports f_type as these magic numbers; macOS and Windows number their file systems otherwise.
  if (platform !== 'linux') return { polling: false, reason: `native events (${platform})` };
  if (magic === undefined) return { polling: false, reason: 'native events (the file system type is unknown)' };
  const name = networkFileSystemName(magic);
  return name
    ? { polling: true, reason: `the runs folder is on ${name}, whose changes from other machines raise no events here` }
    : { polling: false, reason: `native events (local file system, type 0x${(magic >>> 0).toString(16)})` };
}

/**
 * The statfs magic of the file system holding `path`, or of its nearest existing parent folder (the
 * runs folder may not exist yet, and it will be made on its parent's file system).
 */
export async function fileSystemMagic(path: string): Promise<{ magic: number } | { problem: string }> {
  let current = path;
  for (;;) {
    try {
      return { magic: (await statfs(current)).type };
    } catch (error) {
      const parent = dirname(current);
      if (errorCode(error) !== 'ENOENT' || parent === current) return { problem: errorMessage(error) };
      current = parent;
    }
  }
}

/** How to follow `runsDir` under the setting: the file system is looked at only for "auto". */
export async function watchModeFor(
  runsDir: string,
  setting: WatchPollingSetting,
  platform: NodeJS.Platform = process.platform,
): Promise<WatchMode> {
  if (setting !== 'auto' || platform !== 'linux') return decideWatchMode(setting, platform);
  const found = await fileSystemMagic(runsDir);
  if ('magic' in found) return decideWatchMode(setting, platform, found.magic);
  return { polling: false, reason: `native events (statfs of ${runsDir} failed: ${found.problem})` };
}
