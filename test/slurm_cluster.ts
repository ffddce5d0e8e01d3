// A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd from the Debian packages,
// started as plain child processes in a temporary folder (no systemd, nothing under /etc touched), and
// stopped by the PIDs this module started. Each test file that needs Slurm brings up its own cluster.
//
// Why each setting is what it is:
// - Own munge key and socket in the cluster's folder, and `AuthInfo=socket=` pointing at it, so that
//   neither the system's munged nor another test's cluster is involved. munged refuses a socket folder
//   that others can write to, hence the 0711 folder (the job user must still reach the socket).
// - Ports are picked by binding port 0 and releasing it, so two clusters (two test files, two
//   developers) never meet; a clash in the short window before the daemons bind makes the start retry.
// - proctrack/pgid: it needs no cgroup hierarchy shared with the rest of the machine, so clusters can
//   coexist; the job script `exec`s node, so the job's process group is the run itself.
// - batch_sched_delay=0: by default slurmctld waits up to 3 s before it schedules a batch job, which
//   every test would pay.
// - KillWait=30 (Slurm's default): the seconds between SIGTERM and SIGKILL on scancel and time limit,
//   as on most clusters, so the tests show that a run checkpoints within the usual grace period.
// - SlurmdTimeout=10: how long a silent node stays up; short so that the node-failure test sees Slurm
//   declare it dead within seconds rather than the default five minutes.
// - No accounting database: `sacct` does not work, as on clusters that have none; the executor reads
//   squeue and scontrol only.
// The daemons run in the foreground (-F, -D) so that their PIDs are known from the start and a daemon
// that dies during start-up is seen at once, with its log.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';

export interface SlurmCluster {
  /** The cluster's folder: config, state, logs, munge socket. */
  root: string;
  /** What a Slurm client (sbatch, squeue, …) needs in its environment to reach this cluster. */
  env: { SLURM_CONF: string };
  partition: string;
  nodeName: string;
  killWaitSeconds: number;
  /** Seconds bring-up took, until the probe job had completed. */
  startSeconds: number;
  /** The PID of slurmd, while it runs. */
  slurmdPid(): number | null;
  /**
   * Kills the node as a crash would: slurmd and the given job processes (with the slurmstepd that
   * holds each) with SIGKILL, so that only slurmctld is left to notice.
   */
  crashNode(jobPids: number[]): void;
  /** A daemon's log, for a failing test's message. */
  logs(): string;
  /** Cancels every job, waits for them to end, stops the daemons by PID and removes the folder. */
  stop(): Promise<void>;
}

export type SlurmClusterStart = { cluster: SlurmCluster; skip?: undefined } | { cluster?: undefined; skip: string };

const programs = ['munged', 'munge', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];
const packageOf: Record<string, string> = {
  munged: 'munge',
  munge: 'munge',
  slurmctld: 'slurmctld',
  slurmd: 'slurmd',
};

/** Where the Slurm programs are looked for: PATH, then the sbin folders. */
export function programFolders(): string[] {
  return [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
}

/** Absolute path of a program on PATH or in the sbin folders (daemons live there, often off a user's PATH). */
export function findProgram(name: string, folders: string[] = programFolders()): string | null {
  for (const folder of folders) {
    if (folder === '') continue;
    const path = join(folder, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/**
 * Why this machine cannot run a Slurm cluster for the tests, or null when it can. In CI (CI=true)
 * the tests must never skip, so startSlurmCluster throws this reason there instead.
 */
export function slurmUnavailableReason(folders: string[] = programFolders()): string | null {
  const missing = programs.filter((p) => findProgram(p, folders) === null);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((p) => packageOf[p] ?? 'slurm-client'))];
    return (
      `Slurm is not installed (missing: ${missing.join(', ')}); install it with ` +
      `"apt-get install ${packages.join(' ')}" to run the Slurm tests.`
    );
  }
  if (process.getuid?.() !== 0) {
    return 'The Slurm tests start slurmd, which must run as root to start jobs; run them as root.';
  }
  return null;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port from listen(0)');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Runs a Slurm client command against the cluster; never rejects. */
export function slurmCommand(
  conf: string,
  program: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      findProgram(program) ?? program,
      args,
      { env: { ...process.env, SLURM_CONF: conf }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function slurmConf(root: string, ctldPort: number, dPort: number, hardware: string): string {
  return `# Generated by test/slurm_cluster.ts for one test file.
ClusterName=l3mtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${ctldPort}
SlurmdPort=${dPort}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${join(root, 'munge', 'socket')}
StateSaveLocation=${join(root, 'state', 'ctld')}
SlurmdSpoolDir=${join(root, 'state', 'd')}
SlurmctldPidFile=${join(root, 'run', 'slurmctld.pid')}
SlurmdPidFile=${join(root, 'run', 'slurmd.pid')}
SlurmctldLogFile=${join(root, 'log', 'slurmctld.log')}
SlurmdLogFile=${join(root, 'log', 'slurmd.log')}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=30
SlurmdTimeout=10
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 ${hardware} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`;
}

/** Polls `check` every 100 ms until it returns a value, a daemon dies, or `seconds` pass. */
async function waitFor<T>(
  seconds: number,
  what: string,
  check: () => Promise<T | null>,
  dead: () => string | null,
): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const died = dead();
    if (died !== null) throw new Error(`${died} while waiting for ${what}`);
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`Timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s*Z/m.test(status);
  } catch {
    return false;
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 4 after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return null;
  }
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Starts a cluster, or says why it cannot: a machine without Slurm gets `{ skip }`, except in CI
 * (CI=true), where that throws so that the Slurm tests never pass by skipping.
 */
export async function startSlurmCluster(options: { programFolders?: string[] } = {}): Promise<SlurmClusterStart> {
  const reason = slurmUnavailableReason(options.programFolders);
  if (reason !== null) {
    if (process.env.CI === 'true') throw new Error(`CI must run the Slurm tests, but: ${reason}`);
    return { skip: reason };
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return { cluster: await startOnce() };
    } catch (error) {
      lastError = error;
      // A port taken between picking it and binding it shows as "Address already in use": try others.
      if (!/already in use/i.test(String(error))) break;
    }
  }
  throw lastError;
}

async function startOnce(): Promise<SlurmCluster> {
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'l3m-slurm-'));
  // The job user and munged must be able to walk into the folder.
  chmodSync(root, 0o755);
  for (const dir of ['etc', 'state/ctld', 'state/d', 'log', 'run', 'munge'])
    mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, 'munge'), 0o711);
  const conf = join(root, 'etc', 'slurm.conf');
  const children: { name: string; child: ChildProcess; log: string }[] = [];
  let exitNote: string | null = null;

  const startDaemon = (name: string, args: string[], log: string) => {
    const fd = openSync(log, 'a');
    const child = spawn(findProgram(name) ?? name, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, SLURM_CONF: conf },
    });
    closeSync(fd);
    const entry = { name, child, log };
    children.push(entry);
    child.once('exit', (code, signal) => {
      if (!stopping && exitNote === null) {
        exitNote = `${name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}; its log:\n${tail(log)}`;
      }
    });
    return entry;
  };
  let stopping = false;
  const dead = () => exitNote;

  const stopDaemons = async () => {
    stopping = true;
    const live = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(
      live.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
            c.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.child.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    const [ctldPort, dPort] = await freePorts(2);
    await writeFile(join(root, 'munge', 'key'), randomBytes(1024), { mode: 0o600 });
    const socket = join(root, 'munge', 'socket');
    startDaemon(
      'munged',
      [
        '-F',
        `--socket=${socket}`,
        `--key-file=${join(root, 'munge', 'key')}`,
        `--pid-file=${join(root, 'munge', 'pid')}`,
        `--seed-file=${join(root, 'munge', 'seed')}`,
        `--log-file=${join(root, 'munge', 'munged.log')}`,
      ],
      join(root, 'log', 'munged.out'),
    );
    await waitFor(
      10,
      'munged to answer',
      async () => {
        const r = await slurmCommand(conf, 'munge', ['-n', '-S', socket]);
        return r.code === 0 ? true : null;
      },
      dead,
    );
    // The node's hardware as slurmd sees it, less the uptime, so the node is not drained for a mismatch.
    const detected = await slurmCommand(conf, 'slurmd', ['-C']);
    const hardware = (detected.stdout.split('\n')[0] ?? '')
      .replace(/^NodeName=\S+\s*/, '')
      .replace(/\s*UpTime=.*$/, '');
    await writeFile(conf, slurmConf(root, ctldPort, dPort, hardware));
    startDaemon('slurmctld', ['-D', '-f', conf], join(root, 'log', 'slurmctld.out'));
    startDaemon('slurmd', ['-D', '-f', conf, '-N', 'localhost'], join(root, 'log', 'slurmd.out'));
    await waitFor(
      30,
      'the node to be idle',
      async () => {
        const r = await slurmCommand(conf, 'sinfo', ['-h', '-n', 'localhost', '-o', '%T']);
        if (/already in use/i.test(tail(join(root, 'log', 'slurmctld.log')) + tail(join(root, 'log', 'slurmd.log')))) {
          throw new Error('a Slurm port is already in use');
        }
        return r.stdout.trim() === 'idle' ? true : null;
      },
      dead,
    );
    // slurmctld's first scheduling pass for batch jobs comes a few seconds after it starts; one probe job
    // run to the end makes "started" mean "runs jobs".
    const probe = await slurmCommand(conf, 'sbatch', [
      '--parsable',
      '-J',
      'probe',
      '-o',
      '/dev/null',
      '-D',
      root,
      '--wrap',
      'true',
    ]);
    if (probe.code !== 0) throw new Error(`sbatch of the probe job failed: ${probe.stderr}`);
    const probeId = probe.stdout.trim().split(';')[0];
    await waitFor(
      30,
      `probe job ${probeId} to complete`,
      async () => {
        const r = await slurmCommand(conf, 'scontrol', ['-o', 'show', 'job', probeId]);
        const state = /JobState=(\S+)/.exec(r.stdout)?.[1];
        if (state === undefined || ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING'].includes(state)) return null;
        if (state !== 'COMPLETED') throw new Error(`probe job ${probeId} ended ${state}: ${r.stdout}`);
        return true;
      },
      dead,
    );
  } catch (error) {
    const logs = ['slurmctld.log', 'slurmd.log', 'slurmctld.out', 'slurmd.out', 'munged.out']
      .map((f) => `--- ${f}\n${tail(join(root, 'log', f))}`)
      .join('\n');
    await stopDaemons();
    await rm(root, { recursive: true, force: true });
    throw new Error(`Starting the test Slurm cluster in ${root} failed: ${String(error)}\n${logs}`, { cause: error });
  }

  const slurmd = children.find((c) => c.name === 'slurmd');
  const exitGuard = () => {
    // The test process is going away without stop(): do not leave daemons behind.
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  };
  process.once('exit', exitGuard);
  const killWaitSeconds = 30;
  const slurmdPid = () => {
    const pid = slurmd?.child.pid;
    return pid !== undefined && slurmd?.child.exitCode === null && slurmd.child.signalCode === null ? pid : null;
  };

  return {
    root,
    env: { SLURM_CONF: conf },
    partition: 'test',
    nodeName: 'localhost',
    killWaitSeconds,
    startSeconds: (Date.now() - started) / 1000,
    slurmdPid,
    crashNode(jobPids: number[]) {
      stopping = true;
      slurmd?.child.kill('SIGKILL');
      for (const pid of jobPids) {
        const stepDaemon = parentPid(pid);
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
        if (stepDaemon !== null && commandName(stepDaemon) === 'slurmstepd' && isAlive(stepDaemon)) {
          process.kill(stepDaemon, 'SIGKILL');
        }
      }
    },
    logs: () => ['slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(join(root, 'log', f), 40)}`).join('\n'),
    async stop() {
      process.removeListener('exit', exitGuard);
      const alive = children.find((c) => c.name === 'slurmctld')?.child.exitCode === null;
      if (alive) {
        const queued = await slurmCommand(conf, 'squeue', ['-h', '-o', '%i']);
        const jobs = queued.stdout.split('\n').filter((j) => j.trim() !== '');
        if (jobs.length > 0) {
          await slurmCommand(conf, 'scancel', jobs);
          // Jobs get SIGTERM, then SIGKILL after KillWait; wait that long and a little more for them to go.
          await waitFor(
            killWaitSeconds + 15,
            'the cancelled jobs to end',
            async () => {
              const r = await slurmCommand(conf, 'squeue', ['-h', '-o', '%i', '-t', 'R,CG,CF,S']);
              return r.stdout.trim() === '' ? true : null;
            },
            () => null,
          ).catch(() => undefined);
        }
      }
      await stopDaemons();
      await rm(root, { recursive: true, force: true });
    },
  };
}
