// The end-to-end harness: the packaged extension inside a real VS Code workbench (code-server),
// driven by Debian's Chromium through playwright-core. A test calls `launchStudio()`, uses the
// helpers of the returned `Studio`, and calls `close()` in `after()`.
//
// Everything waits on selectors or events, never on a fixed delay (docs/conventions.md#e2e-waits). The
// workbench's HOME, XDG folders and TMPDIR, Chromium's profile, the user-data and extensions
// folders and the workspace copy all live in one temporary folder that `close()` removes.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import {
  installExtension,
  isolatedEnv,
  makeSessionRoot,
  startCodeServer,
  type RunningCodeServer,
} from '../../scripts/workbench/code_server';
import { ensureWorkbench, repoRoot, type Workbench } from '../../scripts/workbench/install';
import { quietWorkbenchSettings, writeUserSettings } from '../../scripts/workbench/settings';
import { buildExtension, bundlesAreFresh, packageVsix } from '../../scripts/workbench/vsix';
import { chromiumExecutable } from '../chromium';

export const artifactsDir = join(repoRoot, 'test-artifacts');

/** How long one wait for the workbench may take; generous because 2 shared cores are slow. */
const defaultTimeoutMs = 60_000;

export interface LaunchOptions {
  /**
   * 'disabled' (the default): Workspace Trust is off, the workspace is trusted and no dialog appears.
   * 'untrusted': Trust is on and the workspace opens in Restricted Mode without a prompt, for tests
   * of what the extension refuses to do there.
   */
  workspaceTrust?: 'disabled' | 'untrusted';
  /** A .vsix to install instead of packaging the repository's extension. */
  vsixPath?: string;
  /** Extra user settings for the workbench. */
  settings?: Record<string, unknown>;
  /** Prints code-server's output to stderr (also when L3M_E2E_VERBOSE=1). */
  verbose?: boolean;
}

export interface Studio {
  page: Page;
  context: BrowserContext;
  server: RunningCodeServer;
  workbench: Workbench;
  /** The workspace folder (a copy of examples/ with an empty runs/ folder). */
  workspace: string;
  /** The temporary folder holding everything of this session. */
  sessionRoot: string;
  /** Clicks the L3M entry of the activity bar and waits for its side bar to show. */
  openL3MView(): Promise<void>;
  /** The labels of the visible items of a view in the side bar (views are expanded first). */
  treeItems(viewTitle: string): Promise<string[]>;
  /** Waits until an item whose label matches appears in the view, and returns its row. */
  waitForTreeItem(viewTitle: string, label: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /**
   * Waits until an item whose label matches is visible in the view, expanding collapsed items on the
   * way (for trees that group items, e.g. runs under their experiment), and returns its row.
   */
  revealTreeItem(viewTitle: string, label: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** Opens a workspace file through Quick Open (its path relative to the workspace). */
  openFile(relativePath: string): Promise<void>;
  /** Runs a command by its title from the Command Palette, e.g. 'View: Toggle Terminal'. */
  runCommand(title: string): Promise<void>;
  /** Opens the Problems panel and returns the accessible text of every row (files and markers). */
  problems(): Promise<string[]>;
  /** Waits until some Problems row matches, and returns all rows. */
  waitForProblem(match: RegExp, timeoutMs?: number): Promise<string[]>;
  /** Runs `body`; when it throws, saves test-artifacts/<name>-failed.png and names it in the error. */
  screenshotOnFailure<T>(name: string, body: () => Promise<T>): Promise<T>;
  /** Saves a screenshot as test-artifacts/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** Closes the browser, ends code-server's process tree and removes the session folder. */
  close(): Promise<void>;
}

async function ensureVsix(sessionRoot: string, log: (line: string) => void): Promise<string> {
  // `npm test` builds just before the suites run; a developer running this file alone may not have.
  if (!bundlesAreFresh()) await buildExtension({ typecheck: false, log });
  return packageVsix(join(sessionRoot, 'l3m-studio.vsix'), log);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function launchStudio(options: LaunchOptions = {}): Promise<Studio> {
  const verbose = options.verbose === true || process.env.L3M_E2E_VERBOSE === '1';
  const log = verbose ? (line: string) => console.error(`[e2e] ${line}`) : () => {};
  const chromiumPath = chromiumExecutable();
  const workbench = await ensureWorkbench(log);
  const sessionRoot = makeSessionRoot('l3m-e2e-');
  let server: RunningCodeServer | undefined;
  let context: BrowserContext | undefined;
  try {
    const vsix = options.vsixPath ?? (await ensureVsix(sessionRoot, log));
    const env = isolatedEnv(join(sessionRoot, 'env'));
    const folders = { userDataDir: join(sessionRoot, 'user-data'), extensionsDir: join(sessionRoot, 'extensions') };
    const workspace = join(sessionRoot, 'workspace');
    // A copy, so that what a test writes (broken configs, runs) never touches the repository.
    if (existsSync(join(repoRoot, 'examples'))) cpSync(join(repoRoot, 'examples'), workspace, { recursive: true });
    mkdirSync(join(workspace, 'runs'), { recursive: true });

    const trustSettings =
      options.workspaceTrust === 'untrusted'
        ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' }
        : { 'security.workspace.trust.enabled': false };
    writeUserSettings(folders.userDataDir, { ...quietWorkbenchSettings, ...trustSettings, ...options.settings }, false);
    await installExtension(workbench, vsix, folders, env);
    server = await startCodeServer(workbench, {
      ...folders,
      workspace,
      env,
      workspaceTrust: options.workspaceTrust === 'untrusted',
      log,
    });

    // A persistent context puts Chromium's profile inside the session folder instead of the test
    // process's TMPDIR; Chromium gets the same isolated HOME and XDG folders as code-server.
    context = await chromium.launchPersistentContext(join(sessionRoot, 'chromium-profile'), {
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      env: isolatedEnv(join(sessionRoot, 'chromium-env')),
      // Tall, because tree views render only the rows inside their viewport: an item scrolled out of
      // sight is not in the page at all. 1500 px shows about 30 rows in each of two stacked views.
      viewport: { width: 1400, height: 1500 },
      headless: true,
    });
    context.setDefaultTimeout(defaultTimeoutMs);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(server.url);
    // The workbench is ready when its parts are laid out and the Explorer shows the workspace folder.
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible' });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible' });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
    return makeStudio({ page, context, server, workbench, workspace, sessionRoot });
  } catch (error) {
    await context?.close().catch(() => {});
    await server?.stop();
    const output = server?.output().slice(-3000);
    rmSync(sessionRoot, { recursive: true, force: true });
    if (error instanceof Error && output !== undefined) error.message += `\ncode-server's last output:\n${output}`;
    throw error;
  }
}

interface Parts {
  page: Page;
  context: BrowserContext;
  server: RunningCodeServer;
  workbench: Workbench;
  workspace: string;
  sessionRoot: string;
}

function makeStudio(parts: Parts): Studio {
  const { page } = parts;
  const quickInput = page.locator('.quick-input-widget');
  const quickInputBox = quickInput.locator('input.input');

  async function openQuickInput(prefix: string, text: string): Promise<void> {
    // F1 opens the Command Palette with a ">" prefix; replacing the whole text switches the same
    // widget to file search when the prefix is empty.
    await page
      .locator('.monaco-workbench')
      .focus()
      .catch(() => {});
    await page.keyboard.press('F1');
    await quickInputBox.waitFor({ state: 'visible' });
    await quickInputBox.fill(`${prefix}${text}`);
  }

  function pane(viewTitle: string): Locator {
    return page.locator('.part.sidebar .pane').filter({
      has: page.locator('.pane-header .title', { hasText: new RegExp(`^${escapeRegExp(viewTitle)}$`, 'i') }),
    });
  }

  async function expandPane(viewTitle: string): Promise<Locator> {
    const found = pane(viewTitle);
    const header = found.locator('.pane-header');
    await header.waitFor({ state: 'visible' });
    if ((await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
      await page.locator('.part.sidebar .pane-header[aria-expanded="true"]', { hasText: viewTitle }).waitFor();
    }
    return found;
  }

  /** What a view shows, for failure messages: its items, or its message (e.g. "no data provider"). */
  async function describePane(found: Locator): Promise<string> {
    const items = await found.locator('.pane-body .monaco-list-row .label-name').allTextContents();
    if (items.length > 0) return `It shows: ${items.join(', ')}.`;
    const text = (
      await found
        .locator('.pane-body')
        .innerText()
        .catch(() => '')
    ).trim();
    return text !== '' ? `It shows the message: "${text}".` : 'It is empty.';
  }

  async function showProblemsPanel(): Promise<Locator> {
    const markers = page.locator('.markers-panel');
    if (!(await markers.isVisible())) await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    await markers.waitFor({ state: 'visible' });
    return markers;
  }

  async function rowsText(rows: Locator): Promise<string[]> {
    // The Node project has no DOM library, so Playwright's Element is unresolved here: name the two members read.
    return rows.evaluateAll((elements: { getAttribute(name: string): string | null; textContent: string | null }[]) =>
      elements.map((e) => e.getAttribute('aria-label') ?? e.textContent ?? ''),
    );
  }

  async function runCommand(title: string): Promise<void> {
    await openQuickInput('>', title);
    const row = quickInput.locator('.monaco-list-row', {
      has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
    });
    await row.first().waitFor({ state: 'visible' });
    await row.first().click();
    await quickInput.waitFor({ state: 'hidden' });
  }

  return {
    ...parts,

    async openL3MView() {
      const entry = page.locator('.part.activitybar .action-item .action-label[aria-label*="L3M"]').first();
      await entry.waitFor({ state: 'visible' });
      const sidebarTitle = page.locator('.part.sidebar .composite.title h2', { hasText: /L3M/i });
      if (!(await sidebarTitle.isVisible())) await entry.click();
      await sidebarTitle.waitFor({ state: 'visible' });
    },

    async treeItems(viewTitle) {
      const found = await expandPane(viewTitle);
      return found.locator('.pane-body .monaco-list-row .label-name').allTextContents();
    },

    async waitForTreeItem(viewTitle, label, timeoutMs = defaultTimeoutMs) {
      const found = await expandPane(viewTitle);
      const pattern = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
      const row = found
        .locator('.pane-body .monaco-list-row', { has: page.locator('.label-name', { hasText: pattern }) })
        .first();
      await row.waitFor({ state: 'visible', timeout: timeoutMs }).catch(async () => {
        throw new Error(
          `No item matching ${pattern} appeared in the ${viewTitle} view within ${timeoutMs / 1000} s. ${await describePane(found)}`,
        );
      });
      return row;
    },

    async revealTreeItem(viewTitle, label, timeoutMs = defaultTimeoutMs) {
      const found = await expandPane(viewTitle);
      const pattern = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
      const target = found
        .locator('.pane-body .monaco-list-row', { has: page.locator('.label-name', { hasText: pattern }) })
        .first();
      const collapsed = found.locator('.pane-body .monaco-list-row[aria-expanded="false"]').first();
      const deadline = Date.now() + timeoutMs;
      // Each round waits for an event: the item itself, or a collapsed parent to open. Opening a
      // parent makes its children appear, so the rounds end; the deadline bounds a tree that never
      // shows the item.
      for (;;) {
        const remaining = deadline - Date.now();
        const fail = async () => {
          throw new Error(
            `No item matching ${pattern} appeared in the ${viewTitle} view within ${timeoutMs / 1000} s. ${await describePane(found)}`,
          );
        };
        if (remaining <= 0) await fail();
        await target.or(collapsed).first().waitFor({ state: 'visible', timeout: remaining }).catch(fail);
        if (await target.isVisible()) return target;
        const parentLabel = await collapsed.getAttribute('aria-label');
        await collapsed.locator('.monaco-tl-twistie').click();
        await found
          .locator(
            `.pane-body .monaco-list-row[aria-expanded="true"][aria-label="${(parentLabel ?? '').replace(/"/g, '\\"')}"]`,
          )
          .first()
          .or(target)
          .first()
          .waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) });
      }
    },

    async openFile(relativePath) {
      await openQuickInput('', relativePath);
      const name = relativePath.split('/').pop()!;
      const row = quickInput.locator('.monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
      });
      await row.first().waitFor({ state: 'visible' });
      await row.first().click();
      await page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).waitFor({ state: 'visible' });
      await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ state: 'visible' });
    },

    runCommand,

    async problems() {
      const markers = await showProblemsPanel();
      return rowsText(markers.locator('.monaco-list-row'));
    },

    async waitForProblem(match, timeoutMs = defaultTimeoutMs) {
      const markers = await showProblemsPanel();
      // A marker row's accessible label holds severity, message, line and column, e.g.
      // "Error: Unknown key at line 3 and character 5."; a file row names the file.
      // The predicate runs in the page; it is passed as source text because this file is typed for Node.
      const pattern = `new RegExp(${JSON.stringify(match.source)}, ${JSON.stringify(match.flags)})`;
      await page
        .waitForFunction(
          `Array.from(document.querySelectorAll('.markers-panel .monaco-list-row')).some((row) => ${pattern}.test(row.getAttribute('aria-label') || ''))`,
          undefined,
          { timeout: timeoutMs },
        )
        .catch(async () => {
          const shown = await rowsText(markers.locator('.monaco-list-row'));
          throw new Error(
            `No Problems entry matching ${match} appeared within ${timeoutMs / 1000} s. The Problems panel shows: ` +
              `${shown.length > 0 ? shown.join(' | ') : '(nothing)'}. Is the language server running for *.l3m.json files?`,
          );
        });
      return rowsText(markers.locator('.monaco-list-row'));
    },

    async screenshotOnFailure(name, body) {
      try {
        return await body();
      } catch (error) {
        const path = await this.screenshot(`${name}-failed`).catch(() => undefined);
        if (error instanceof Error && path !== undefined) error.message += `\n(screenshot: ${path})`;
        throw error;
      }
    },

    async screenshot(name) {
      mkdirSync(artifactsDir, { recursive: true });
      const path = join(artifactsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path });
      return path;
    },

    async close() {
      await parts.context.close().catch(() => {});
      await parts.server.stop();
      if (process.env.L3M_E2E_KEEP !== '1') rmSync(parts.sessionRoot, { recursive: true, force: true });
    },
  };
}
