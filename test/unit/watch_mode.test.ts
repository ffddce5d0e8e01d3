// How the Runs view follows its folder (extension/watch_mode.ts): native events on a local file
// system, polling on network and FUSE file systems, whose remote writes raise no inotify event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decideWatchMode,
  fileSystemMagic,
  networkFileSystemName,
  networkFileSystems,
  watchModeFor,
} from '../../extension/watch_mode';

test('the statfs magic numbers of network and FUSE file systems are recognised', () => {
  const cases: [number, string | undefined][] = [
    [0x6969, 'NFS'],
    [0xff534d42, 'CIFS'],
    [0xfe534d42, 'SMB2/3'],
    [0x517b, 'SMB'],
    [0x0bd00bd0, 'Lustre'],
    [0x47504653, 'GPFS (IBM Storage Scale)'],
    [0x19830326, 'BeeGFS'],
    [0x65735546, 'FUSE (sshfs, GlusterFS, s3fs, …)'],
    [0x00c36400, 'CephFS'],
    [0x01021997, '9p (WSL, QEMU shares)'],
    // Local file systems: ext4, xfs, btrfs, tmpfs, overlayfs, zfs.
    [0xef53, undefined],
    [0x58465342, undefined],
    [0x9123683e, undefined],
    [0x01021994, undefined],
    [0x794c7630, undefined],
    [0x2fc12fc1, undefined],
  ];
  for (const [magic, name] of cases) assert.equal(networkFileSystemName(magic), name, `0x${magic.toString(16)}`);
  // CIFS's magic read back through a signed 32-bit integer is still CIFS.
  assert.equal(networkFileSystemName(0xff534d42 | 0), 'CIFS');
  assert.ok(networkFileSystems.size >= 15);
});

test('the decision: the setting first, then the file system, on Linux only', () => {
  const nfs = decideWatchMode('auto', 'linux', 0x6969);
  assert.equal(nfs.polling, true);
  assert.match(nfs.reason, /on NFS/);
  const ext4 = decideWatchMode('auto', 'linux', 0xef53);
  assert.equal(ext4.polling, false);
  assert.match(ext4.reason, /native events \(local file system, type 0xef53\)/);
  assert.equal(decideWatchMode('always', 'linux', 0xef53).polling, true);
  assert.match(decideWatchMode('always', 'linux', 0xef53).reason, /"always"/);
  assert.equal(decideWatchMode('never', 'linux', 0x6969).polling, false);
  // macOS numbers its file systems otherwise: no guess from the Linux table there.
  assert.equal(decideWatchMode('auto', 'darwin', 0x6969).polling, false);
  assert.equal(decideWatchMode('always', 'darwin').polling, true);
  assert.equal(decideWatchMode('auto', 'linux').polling, false);
});

test(
  'the local file system, read with a real statfs, is followed by native events',
  { skip: process.platform !== 'linux' && 'statfs magic numbers are Linux-only' },
  async (t) => {
    const parent = mkdtempSync(join(tmpdir(), 'l3m-watch-mode-'));
    t.after(() => rmSync(parent, { recursive: true, force: true }));
    const found = await fileSystemMagic(parent);
    assert.ok('magic' in found, JSON.stringify(found));
    const mode = await watchModeFor(parent, 'auto');
    assert.equal(mode.polling, false, mode.reason);
    assert.match(mode.reason, /^native events \(local file system, type 0x[0-9a-f]+\)$/);
    // A runs folder that does not exist yet is judged by the folder it will be made in.
    const missing = await fileSystemMagic(join(parent, 'runs', 'not-yet'));
    assert.deepEqual(missing, found);
    assert.equal((await watchModeFor(join(parent, 'runs'), 'always')).polling, true);
  },
);
