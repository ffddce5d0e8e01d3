// `npm start`: builds and packages the extension, installs the workbench on first use, installs the
// .vsix into code-server, and serves the examples workspace on 127.0.0.1 until Ctrl-C.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installExtension, isolatedEnv, makeSessionRoot, startCodeServer } from './code_server';
import { ensureWorkbench, repoRoot, workbenchDir } from './install';
import { quietWorkbenchSettings, writeUserSettings } from './settings';
import { buildExtension, packageVsix } from './vsix';

const usage = `Usage: npm start [-- --port <number>] [--workspace <folder>] [--no-typecheck]
  --port          the loopback port to listen on (default: a free one)
  --workspace     the folder to open (default: examples/)
  --no-typecheck  bundle without running tsc first (while another part of the tree does not compile)`;

interface StudioArgs {
  port: number;
  workspace: string;
  typecheck: boolean;
}

function parseArgs(args: string[]): StudioArgs | string {
  const parsed: StudioArgs = { port: 0, workspace: join(repoRoot, 'examples'), typecheck: true };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (args[i] === '--port' && value !== undefined) {
      parsed.port = Number(value);
      if (!Number.isInteger(parsed.port) || parsed.port < 0 || parsed.port > 65535)
        return `--port must be an integer from 0 to 65535, got "${value}".`;
      i++;
    } else if (args[i] === '--workspace' && value !== undefined) {
      parsed.workspace = resolve(value);
      i++;
    } else if (args[i] === '--no-typecheck') {
      parsed.typecheck = false;
    } else if (args[i] === '--help' || args[i] === '-h') {
      return '';
    } else {
      return `Unknown argument "${args[i]}".`;
    }
  }
  return parsed;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    if (args !== '') console.error(args);
    console.error(usage);
    return args === '' ? 0 : 2;
  }
  const log = (line: string) => console.error(`  ${line}`);
  try {
    console.error('Building the extension ...');
    // The build's output is in the error when it fails, and is noise when it does not.
    await buildExtension({ typecheck: args.typecheck });
    console.error('Packaging dist/l3m-studio.vsix ...');
    const vsix = await packageVsix(join(repoRoot, 'dist', 'l3m-studio.vsix'));
    const workbench = await ensureWorkbench(log);

    // Settings and installed extensions persist under .workbench/studio between starts; HOME, the
    // XDG folders and TMPDIR of the server are temporary and removed when it stops.
    const studioDir = join(workbenchDir(), 'studio');
    const folders = { userDataDir: join(studioDir, 'user-data'), extensionsDir: join(studioDir, 'extensions') };
    const sessionRoot = makeSessionRoot('l3m-studio-');
    const env = isolatedEnv(sessionRoot);
    mkdirSync(args.workspace, { recursive: true });
    writeUserSettings(folders.userDataDir, quietWorkbenchSettings, true);
    console.error(
      `Installing ${vsix} into code-server ${workbench.codeServerVersion} (VS Code ${workbench.codeVersion}) ...`,
    );
    await installExtension(workbench, vsix, folders, env);

    const server = await startCodeServer(workbench, { ...folders, workspace: args.workspace, env, port: args.port });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping code-server ...`);
      await server.stop();
      rmSync(sessionRoot, { recursive: true, force: true });
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    server.process.on('exit', (code) => {
      if (stopping) return;
      console.error(
        `code-server exited unexpectedly (code ${code}). Its last output:\n${server.output().slice(-3000)}`,
      );
      rmSync(sessionRoot, { recursive: true, force: true });
      process.exit(1);
    });
    console.log(
      `\nL3M Studio is running. Open this address in a browser on this machine:\n\n  ${server.url}\n\nPress Ctrl-C to stop.`,
    );
    // Keep running until a signal arrives; the server's pipes keep the event loop alive.
    return await new Promise<number>(() => {});
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
