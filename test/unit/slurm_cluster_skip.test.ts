// The Slurm tests' rule for a machine without Slurm: skip with the reason on a developer machine, fail
// in CI (CI=true), so that CI can never pass them by skipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slurmUnavailableReason, startSlurmCluster } from '../slurm_cluster';

test('without the Slurm programs the cluster is skipped with the reason, except in CI, where it fails', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'l3m-no-slurm-'));
  const ci = process.env.CI;
  t.after(() => {
    rmSync(empty, { recursive: true, force: true });
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });
  const reason = slurmUnavailableReason([empty]);
  assert.match(
    reason ?? '',
    /^Slurm is not installed \(missing: munged, munge, slurmctld, slurmd, sbatch, squeue, scontrol, scancel, sinfo\)/,
  );
  assert.match(reason ?? '', /apt-get install munge slurmctld slurmd slurm-client/);

  delete process.env.CI;
  assert.deepEqual(await startSlurmCluster({ programFolders: [empty] }), { skip: reason });
  process.env.CI = 'true';
  await assert.rejects(
    startSlurmCluster({ programFolders: [empty] }),
    /^Error: CI must run the Slurm tests, but: Slurm is not installed/,
  );
});
