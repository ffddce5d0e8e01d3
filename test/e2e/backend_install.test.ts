// "L3M: Install GPU Backend" in the packaged extension: the .vsix carries no node_modules, so its sidecar
// finds no GPU package beside itself. In code-server the command is run from the Command Palette, a
// package tarball of `webgpu` is chosen (made here with `npm pack` of node_modules/webgpu, its
// dependencies bundled in, so no registry is needed), npm installs it into the extension's global
// storage, and the notification gives what the probe then finds there. The installed extension's own
// sidecar is then probed directly: it finds webgpu in that folder and nowhere beside itself. Without a
// GPU the probe says that Dawn found no hardware adapter; on a machine with one it names the GPU.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../scripts/workbench/install';
import type { BackendProbe } from '../../sidecar/protocol/messages';
import { readJson } from '../read_json';
import { launchStudio, type Studio } from './harness';

const webgpuDir = join(repoRoot, 'node_modules', 'webgpu');

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  bundleDependencies?: string[];
}

/**
 * `npm pack` of a copy of node_modules/webgpu with its dependencies (and theirs) bundled, so that
 * installing the one tarball needs no registry: what a person carries to a machine without internet.
 */
function packWebgpu(dir: string): string {
  const copy = join(dir, 'webgpu');
  cpSync(webgpuDir, copy, { recursive: true });
  const manifest = readJson<PackageJson>(join(copy, 'package.json'));
  const pending = Object.keys(manifest.dependencies ?? {});
  const bundled = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (bundled.has(name)) continue;
    bundled.add(name);
    const nested = join(copy, 'node_modules', name);
    const source = existsSync(nested) ? nested : join(repoRoot, 'node_modules', name);
    assert.ok(existsSync(source), `${name}, a dependency of webgpu, is not installed in node_modules`);
    if (!existsSync(nested)) cpSync(source, nested, { recursive: true });
    pending.push(...Object.keys(readJson<PackageJson>(join(source, 'package.json')).dependencies ?? {}));
  }
  writeFileSync(
    join(copy, 'package.json'),
    JSON.stringify({ ...manifest, bundleDependencies: Object.keys(manifest.dependencies ?? {}) }, null, 2),
  );
  const name = execFileSync('npm', ['pack', copy, '--pack-destination', dir], {
    encoding: 'utf8',
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n')
    .pop()!;
  return join(dir, name);
}

function probeInstalledSidecar(sidecar: string, env: Record<string, string>): Promise<BackendProbe> {
  return new Promise((resolveProbe, reject) => {
    execFile(
      process.execPath,
      [sidecar, 'probe', '--json'],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${sidecar} probe failed: ${stderr}`));
          return;
        }
        const webgpu = (JSON.parse(stdout) as { backends: BackendProbe[] }).backends.find((b) => b.name === 'webgpu');
        if (webgpu) resolveProbe(webgpu);
        else reject(new Error(`the probe lists no webgpu backend: ${stdout}`));
      },
    );
  });
}

describe(
  'L3M: Install GPU Backend',
  { timeout: 10 * 60_000, skip: !existsSync(webgpuDir) && 'webgpu is not installed in node_modules' },
  () => {
    let studio: Studio;
    let tarball: string;

    before(async () => {
      studio = await launchStudio();
      const packed = join(studio.sessionRoot, 'packed');
      mkdirSync(packed);
      tarball = packWebgpu(packed);
    });

    after(async () => {
      await studio?.close();
    });

    test('webgpu from a package tarball goes into global storage, and the probe finds it there', async (t) => {
      const { page } = studio;
      const quickInput = page.locator('.quick-input-widget');
      const title = (text: string) => quickInput.locator('.quick-input-title', { hasText: text });
      const storage = join(studio.sessionRoot, 'user-data', 'User', 'globalStorage', 'l3m-studio.l3m-studio');
      const folder = join(storage, 'backends');

      await studio.screenshotOnFailure('install-gpu-backend', async () => {
        // Not studio.runCommand: it waits for the palette to close, and this command opens a quick pick at once.
        await page.locator('.monaco-workbench').focus();
        await page.keyboard.press('F1');
        await quickInput.locator('input.input').fill('>L3M: Install GPU Backend');
        await quickInput.locator('.monaco-list-row', { hasText: 'L3M: Install GPU Backend' }).first().click();
        await title('L3M: Install GPU Backend').waitFor({ state: 'visible' });
        const offered = await quickInput.locator('.monaco-list-row .label-name').allTextContents();
        for (const name of ['webgpu', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'])
          assert.ok(offered.includes(name), `the quick pick offers ${name}: ${offered.join(', ')}`);
        await quickInput.locator('.monaco-list-row', { hasText: 'From package tarballs (.tgz)' }).first().click();

        // code-server's file dialog is a quick input that takes a typed path. It opens on a folder that it lists
        // asynchronously, and then writes that folder's path into the input: a path typed before that is
        // overwritten (seen on a loaded machine, where the dialog then said "Please select a file"). So wait
        // for the folder's listing first, and if the dialog is still open after accepting, type the path again.
        await title('package tarballs to install').waitFor({ state: 'visible' });
        const input = quickInput.locator('input.input');
        await quickInput.locator('.monaco-list-row', { hasText: '..' }).first().waitFor();
        for (let attempt = 1; ; attempt++) {
          await input.fill(tarball);
          // The dialog accepts once it has looked the typed path up and lists the file.
          await quickInput.locator('.monaco-list-row', { hasText: 'webgpu-0.6.2.tgz' }).first().waitFor();
          if (attempt === 1) await quickInput.getByRole('button', { name: 'Install' }).click();
          else await input.press('Enter');
          try {
            await title('package tarballs to install').waitFor({ state: 'hidden', timeout: 15_000 });
            break;
          } catch (error) {
            if (attempt >= 4) throw error;
            t.diagnostic(`the file dialog stayed open with "${await input.inputValue()}"; typing the path again`);
          }
        }

        const done = page
          .locator('.notifications-toasts .notification-toast', { hasText: /L3M: installed|L3M: npm|install script/ })
          .first();
        await done.waitFor({ state: 'visible', timeout: 300_000 });
        const text = await done.innerText();
        t.diagnostic(`notification: ${text}`);
        assert.match(text, /L3M: installed webgpu-0\.6\.2\.tgz\./, text);
        assert.match(
          text,
          new RegExp(`webgpu 0\\.6\\.2 found in ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
          text,
        );
        assert.match(text, /backend webgpu is (available on .+|unavailable: Dawn found no hardware GPU adapter)/, text);
      });

      assert.equal(readJson<PackageJson>(join(folder, 'node_modules', 'webgpu', 'package.json')).version, '0.6.2');
      const extension = readdirSync(join(studio.sessionRoot, 'extensions')).find((name) =>
        name.startsWith('l3m-studio.'),
      );
      assert.ok(extension, 'the extension is installed');
      const sidecar = join(studio.sessionRoot, 'extensions', extension, 'dist', 'sidecar.js');
      const alone = await probeInstalledSidecar(sidecar, {});
      assert.deepEqual(
        alone.module?.searched.map((s) => [s.place, s.outcome]),
        [['sidecar', 'absent']],
        'the packaged sidecar has no webgpu of its own',
      );
      const withFolder = await probeInstalledSidecar(sidecar, { L3M_BACKENDS_DIR: folder });
      assert.deepEqual(withFolder.module?.searched[0], {
        place: 'backends-dir',
        path: join(folder, 'node_modules', 'webgpu'),
        outcome: 'loaded',
        detail: '0.6.2',
      });
    });
  },
);
