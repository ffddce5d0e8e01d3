// The browser tests' (and bench/panels') stand-in for VS Code's webview host: a loopback HTTP
// server that serves each panel page exactly as extension/panels builds it (panel_html.ts, same
// CSP) with the real bundle from dist/webview/, plus one nonce'd script that stubs
// `acquireVsCodeApi` with a recorder. Messages reach the page by window.postMessage, as VS Code
// delivers them; ArrayBuffers cross the Playwright boundary as base64 and are turned back into
// ArrayBuffers in the page before it sees them.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelHtml } from '../../extension/panels/panel_html';
import type { HostMessage } from '../../webview/shared/panel_protocol';
import { chromiumExecutable } from '../chromium';

const root = process.cwd();

// Dark+ colours, as VS Code sets them on a webview's <html>, so the screenshots look like the editor.
const themeCss = `:root{--vscode-foreground:#cccccc;--vscode-editor-foreground:#d4d4d4;--vscode-editor-background:#1e1e1e;
--vscode-descriptionForeground:#9d9d9d;--vscode-panel-border:#3c3c3c;--vscode-editorWidget-border:#454545;--vscode-focusBorder:#007fd4;
--vscode-button-background:#0e639c;--vscode-button-foreground:#ffffff;--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;
--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;--vscode-charts-red:#f14c4c;
--vscode-editorWarning-foreground:#cca700;--vscode-inputValidation-warningBackground:#352a05;}`;

const stub = `
window.__posted = [];
let state = JSON.parse(sessionStorage.getItem('l3mState') || 'null');
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__posted.push(m),
  getState: () => state,
  setState: (s) => { state = s; sessionStorage.setItem('l3mState', JSON.stringify(s)); },
});
window.__revive = (m) => {
  const revive = (v) => {
    if (v && typeof v === 'object') {
      if (typeof v.__b64 === 'string') { const s = atob(v.__b64); const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i); return v.__view ? new globalThis[v.__view](b.buffer) : b.buffer; }
      for (const k of Object.keys(v)) v[k] = revive(v[k]);
    }
    return v;
  };
  return revive(m);
};
window.__deliver = (m) => window.postMessage(window.__revive(m), '*');`;

export interface PanelHost {
  origin: string;
  browser: Browser;
  /** options.bundle: another script under dist/webview/ (without .js) in place of the page's own, e.g. a benchmark's baseline build. */
  open(
    page: 'monitor' | 'inspector' | 'compare',
    options?: { width?: number; height?: number; bundle?: string },
  ): Promise<Page>;
  close(): Promise<void>;
}

export async function startPanelHost(): Promise<PanelHost> {
  if (!existsSync(join(root, 'dist/webview/monitor.js')))
    throw new Error('dist/webview/*.js is missing: run `node esbuild.mjs --no-typecheck` first');
  const executablePath = chromiumExecutable();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const page = /^\/panel\/(monitor|inspector|compare)$/.exec(url.pathname)?.[1] as
      'monitor' | 'inspector' | 'compare' | undefined;
    if (page) {
      const nonce = 'testnonce' + Math.random().toString(36).slice(2);
      const bundle = /^[\w/-]+$/.test(url.searchParams.get('bundle') ?? '')
        ? (url.searchParams.get('bundle') as string)
        : page;
      let html = panelHtml({
        page,
        title: page,
        scriptUri: `${origin}/dist/webview/${bundle}.js`,
        styleUri: `${origin}/dist/webview/${bundle}.css`,
        cspSource: origin,
        nonce,
      });
      html = html
        .replace('</head>', `<style>${themeCss}</style>\n</head>`)
        .replace('<script nonce=', `<script nonce="${nonce}">${stub}</script>\n<script nonce=`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = normalize(join(root, url.pathname));
    if (!file.startsWith(join(root, 'dist', 'webview'))) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, {
            'content-type': file.endsWith('.js')
              ? 'text/javascript'
              : file.endsWith('.css')
                ? 'text/css'
                : 'application/octet-stream',
          })
          .end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    origin,
    browser,
    async open(name, options = {}) {
      const page = await browser.newPage({ viewport: { width: options.width ?? 1200, height: options.height ?? 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      errorsOf.set(page, errors);
      await page.goto(
        `${origin}/panel/${name}${options.bundle ? `?bundle=${encodeURIComponent(options.bundle)}` : ''}`,
      );
      await page.waitForFunction(() =>
        (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'),
      );
      return page;
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Errors the page logged (uncaught exceptions, console errors such as CSP violations). */
export function pageErrors(page: Page): string[] {
  return errorsOf.get(page) ?? [];
}

const errorsOf = new WeakMap<Page, string[]>();

/** What a page's global scope holds for the tests (the tests' tsconfig has no DOM types). */
interface PageGlobals {
  __posted: { type: string; data?: unknown }[];
  __deliver(m: unknown): void;
}

function encode(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { __b64: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value))
    return {
      __b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
      __view: value.constructor.name,
    };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

/** Posts a host message to the page the way VS Code delivers webview messages. */
export async function deliver(page: Page, message: HostMessage): Promise<void> {
  await page.evaluate((m) => (globalThis as unknown as PageGlobals).__deliver(m), encode(message));
}

/** Puts a host message into the page as window[name], binary parts as real ArrayBuffers/typed arrays, without posting it. */
export async function stash(page: Page, name: string, message: HostMessage): Promise<void> {
  await page.evaluate(
    ([n, m]) => {
      const g = globalThis as unknown as Record<string, unknown> & { __revive(m: unknown): unknown };
      g[n] = g.__revive(m);
    },
    [name, encode(message)] as const,
  );
}

/** The messages the page posted to its host so far. */
export function posted(page: Page): Promise<{ type: string; [key: string]: unknown }[]> {
  // ArrayBuffers (exported PNGs) come back as their length and first 8 bytes.
  return page.evaluate(() =>
    (globalThis as unknown as PageGlobals).__posted.map((m) => {
      const copy: { type: string; [key: string]: unknown } = { ...m };
      if (m.data instanceof ArrayBuffer)
        copy.data = { bytes: m.data.byteLength, head: Array.from(new Uint8Array(m.data).slice(0, 8)) };
      return copy;
    }),
  );
}

/** Waits until every pending animation frame has run (two frames, so a frame scheduled by a handler has run too). */
export function frames(page: Page, count = 2): Promise<void> {
  // A string, not a function: tsx's transform wraps named inner functions in a helper that does not exist in the page.
  return page.evaluate(
    `new Promise((resolve) => { let left = ${count}; const tick = () => { if (--left <= 0) resolve(); else requestAnimationFrame(tick); }; requestAnimationFrame(tick); })`,
  );
}
