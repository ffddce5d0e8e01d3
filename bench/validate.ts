// Diagnostics latency of the *.l3m.json language server, the delay a user sees between typing and the
// squiggles: a 300-line config, 200 edits, each timed from the didChange notification to the
// publishDiagnostics of that version, through the real server process over LSP (stdio). Reference
// measured in the same run: the same edits through validateConfig in-process (what the server computes,
// without transport), so the ratio shows the LSP overhead. Goal: p95 < 20 ms.
// Usage: npm run bench -- validate [--edits N] [--server dist/server.js]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { resolveConfig } from '../schemas/resolve_config';
import { validateConfig } from '../schemas/validate_config';
import { nodeFileSystem } from '../schemas/node_file_system';

const editsArg = process.argv.indexOf('--edits');
const edits = editsArg > 0 ? Number(process.argv[editsArg + 1]) : 200;
const goalMs = 20;

const targetLines = 300;
const warmupEdits = 20;

/**
 * A 300-line config: a generation config with every field of the schema written out (about 200
 * lines), with a blank line after each field of the top-level sections, as people space long
 * files, until it has 300 lines.
 */
function bigConfig(): string[] {
  const config = resolveConfig({
    name: 'bench',
    task: 'generation',
    backbone: { source: 'random', finetune: 'lora' },
    data: { simulator: { preset: 'half_paper' } },
  });
  const lines = JSON.stringify(config, null, 2).split('\n');
  const out: string[] = [];
  let missing = targetLines - lines.length;
  for (const line of lines) {
    out.push(line);
    if (missing > 0 && /^ {4}"[^"]+": .*,$/.test(line)) {
      out.push('');
      missing--;
    }
  }
  while (missing-- > 0) out.splice(out.length - 1, 0, '');
  return out;
}

/** Edit i: change the learning rate line (every 10th edit makes it invalid, so errors come and go). */
function edited(lines: string[], i: number): string {
  const copy = [...lines];
  const at = copy.findIndex((l) => l.trimStart().startsWith('"lr":'));
  const indent = copy[at].slice(0, copy[at].indexOf('"'));
  copy[at] = `${indent}"lr": ${i % 10 === 9 ? -1 : (i + 1) * 1e-5},`;
  return copy.join('\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
}

async function throughServer(lines: string[]): Promise<number[]> {
  // The server from source through tsx by default (always the current code); `--server FILE` runs
  // a bundle such as dist/server.js instead.
  const serverArg = process.argv.indexOf('--server');
  const built = serverArg > 0 ? resolve(process.argv[serverArg + 1]) : undefined;
  if (built && !existsSync(built))
    throw new Error(`--server ${built}: no such file; build it with "node esbuild.mjs".`);
  const args = built ? [built, '--stdio'] : ['--import', 'tsx', resolve('extension/server/server.ts'), '--stdio'];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map<number, (time: number) => void>();
  client.onNotification('textDocument/publishDiagnostics', (params: { version?: number }) => {
    const done = params.version !== undefined ? waiting.get(params.version) : undefined;
    if (done) {
      waiting.delete(params.version as number);
      done(performance.now());
    }
  });
  client.listen();
  const uri = pathToFileURL(resolve('examples/bench.l3m.json')).toString();
  const published = (version: number) => new Promise<number>((ok) => waiting.set(version, ok));
  try {
    await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
    const opened = published(1);
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'json', version: 1, text: edited(lines, 0) },
    });
    await opened;
    const samples: number[] = [];
    // The first edits after start-up run cold code (JIT); they are sent but not counted.
    for (let i = -warmupEdits; i < edits; i++) {
      const version = i + warmupEdits + 2;
      const done = published(version);
      const start = performance.now();
      await client.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ text: edited(lines, i) }],
      });
      const end = await done;
      if (i >= 0) samples.push(end - start);
    }
    await client.sendRequest('shutdown');
    await client.sendNotification('exit');
    return samples;
  } finally {
    client.dispose();
    child.kill();
  }
}

async function inProcess(lines: string[]): Promise<number[]> {
  const context = { configPath: resolve('examples/bench.l3m.json'), mode: 'edit' as const, fileSystem: nodeFileSystem };
  for (let i = -warmupEdits; i < 0; i++) await validateConfig(edited(lines, i + warmupEdits), context);
  const samples: number[] = [];
  for (let i = 0; i < edits; i++) {
    const text = edited(lines, i);
    const start = performance.now();
    await validateConfig(text, context);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function main(): Promise<void> {
  const lines = bigConfig();
  const server = summary(await throughServer(lines));
  const direct = summary(await inProcess(lines));
  const fmt = (v: number) => `${v.toFixed(2)} ms`;
  console.log(
    `Config: ${lines.length} lines, ${edits} timed edits after ${warmupEdits} warm-up edits (every 10th introduces an error).`,
  );
  console.log(
    `Language server over LSP (stdio): p50 ${fmt(server.p50)}, p95 ${fmt(server.p95)}, max ${fmt(server.max)}`,
  );
  console.log(
    `validateConfig in-process:        p50 ${fmt(direct.p50)}, p95 ${fmt(direct.p95)}, max ${fmt(direct.max)}`,
  );
  console.log(
    `LSP / in-process p95 ratio: ${(server.p95 / direct.p95).toFixed(2)}; goal p95 < ${goalMs} ms: ${server.p95 < goalMs ? 'met' : 'NOT met'}`,
  );
  console.log(
    JSON.stringify({
      bench: 'validate',
      lines: lines.length,
      edits,
      server_p50_ms: +server.p50.toFixed(3),
      server_p95_ms: +server.p95.toFixed(3),
      server_max_ms: +server.max.toFixed(3),
      inprocess_p50_ms: +direct.p50.toFixed(3),
      inprocess_p95_ms: +direct.p95.toFixed(3),
      ratio_p95: +(server.p95 / direct.p95).toFixed(3),
      goal_p95_ms: goalMs,
      goal_met: server.p95 < goalMs,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`bench validate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
