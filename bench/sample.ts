// bench/sample: the generation task's speed.
//  1. Slice forecasting, patches per second with and without the KV cache after 1, 4 and 12 slices:
//     with the cache each patch feeds 1–3 new tokens, so its cost stays flat as the context grows;
//     without it each patch re-runs the whole sequence, so its cost grows with it. What is timed is
//     the second generated slice (after C = 0, 3, 11 context slices and the first generated one), so
//     that the one-off prefill of the prompt and the context — a single forward pass over them, not a
//     per-patch cost — is left out of the per-patch figure. The ODE is one Euler step here so that the
//     backbone's cost is what is measured; one line with the config's RK4 × 8 shows the full per-patch
//     cost. Each rate is the median of 3 timed runs: single runs on this shared machine moved the 1→12
//     cost ratio by ×0.9–2.2.
//  2. Training throughput in patch tokens per second (batch × window × patches per slice per optimizer
//     step: forward, backward and Adam) on each available TF.js backend, beside PyTorch on the same CPU
//     for the same shapes (/usr/bin/python3 with torch; skipped with a reason otherwise). On wasm, two rows:
//     the training process's kernels (installFastWasmKernels: XNNPACK matmuls and conv2d gradients, the
//     velocity CNN on tf.conv2d) and the stock kernels with the CNN's im2col convolutions (the state before
//     sidecar/model/ops/wasm_conv2d_gradients.ts), so the gain is measured in the same run.
// Usage: npm run bench -- sample [--quick]
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { qwen2Config } from '../sidecar/model/qwen2_config';
import { Qwen2Model } from '../sidecar/model/qwen2_model';
import { installFastWasmKernels, uninstallFastWasmKernels } from '../sidecar/model/ops/install_wasm_kernels';
import { selectBackend } from '../sidecar/runtime/backends';
import { GenerationModel } from '../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt } from '../sidecar/tasks/generation/generation_prompt';
import { forecastSlices } from '../sidecar/tasks/generation/generation_sampler';
import { VelocityCnn, setConvolutionPath } from '../sidecar/tasks/generation/velocity_cnn';

const quick = process.argv.includes('--quick');

interface Shape {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  n: number;
  patchSize: number;
  window: number;
  context: number;
  batch: number;
  cnn: { channels: number; blocks: number };
}

/** The quickstart generation config's shapes (examples/quickstart-generation.l3m.json). */
const quickstartShape: Shape = {
  name: 'quickstart',
  hidden: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 64,
  n: 32,
  patchSize: 8,
  window: 6,
  context: 2,
  batch: 8,
  cnn: { channels: 16, blocks: 2 },
};
/** A wider backbone with the paper's velocity CNN (64 channels, 6 blocks) on the same 8×8 patches. */
const mediumShape: Shape = {
  name: 'medium',
  hidden: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 256,
  n: 32,
  patchSize: 8,
  window: 6,
  context: 2,
  batch: 2,
  cnn: { channels: 64, blocks: 6 },
};

function buildModel(shape: Shape, maxPositions: number): GenerationModel {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 16,
      hiddenSize: shape.hidden,
      numHiddenLayers: shape.layers,
      numAttentionHeads: shape.heads,
      numKeyValueHeads: shape.kvHeads,
      intermediateSize: shape.intermediate,
      ropeTheta: 10000,
      maxPositionEmbeddings: maxPositions,
      tieWordEmbeddings: true,
    }),
    1,
  );
  const grid = shape.n / shape.patchSize;
  const linear = { kind: 'linear' as const, depth: 0, width: 0 };
  return new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize: shape.patchSize,
    rows: grid,
    cols: grid,
    lightconeConnector: linear,
    parameterConnector: linear,
    timeStepConnector: linear,
    head: { channels: shape.cnn.channels, blocks: shape.cnn.blocks, residualFactor: 2, kernelSize: 3, condChannels: 2 },
    finetune: 'scratch',
    trainNorms: true,
    seed: 2,
  });
}

/** Patches per second of the second generated slice, which follows `before` slices (before − 1 of them context). */
async function samplingRate(
  model: GenerationModel,
  before: number,
  useCache: boolean,
  ode: { solver: 'euler' | 'rk4'; steps: number },
): Promise<number> {
  const perSlice = model.patchesPerSlice * model.patchSize ** 2;
  const contextSlices = before - 1;
  const context = Float32Array.from({ length: contextSlices * perSlice }, (_, i) => Math.sin(i));
  let firstSliceDone = 0;
  let seconds = 0;
  const options = {
    params: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    timeStep: 0,
    context,
    contextSlices,
    slices: 2,
    ode,
    seed: 1,
    useCache,
    onSlice: (index: number) => {
      if (index === 0) firstSliceDone = performance.now();
      else seconds += (performance.now() - firstSliceDone) / 1000;
    },
  };
  await forecastSlices(model, options); // warm-up: kernels compiled, memory pools filled
  const repeats = quick ? 1 : 2;
  const rates: number[] = [];
  for (let run = 0; run < 3; run++) {
    seconds = 0;
    for (let r = 0; r < repeats; r++) await forecastSlices(model, options);
    rates.push((repeats * model.patchesPerSlice) / seconds);
  }
  return rates.sort((a, b) => a - b)[1];
}

function trainingRate(shape: Shape, steps: number): { tokensPerSecond: number; stepSeconds: number; loss: number } {
  const model = buildModel(shape, 512);
  const grid = shape.n / shape.patchSize;
  const patches = tf.randomNormal<tf.Rank.R4>(
    [shape.batch, shape.window, grid * grid, shape.patchSize ** 2],
    0,
    1,
    'float32',
    3,
  );
  const inputs = {
    patches,
    params: tf.randomUniform<tf.Rank.R2>([shape.batch, 6], 0, 1, 'float32', 4),
    timeSteps: tf.zeros<tf.Rank.R1>([shape.batch]),
  };
  const variables = model.namedTrainableWeights().map(([, v]) => v);
  const optimizer = tf.train.adam(1e-4);
  let loss = NaN;
  const step = (i: number) => {
    const { value, grads } = tf.variableGrads(
      () => model.loss(inputs, shape.context, 100 + i, { training: true, dropoutSeed: i }),
      variables,
    );
    optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
    loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(0);
  // The median step, as for PyTorch: one step slowed by another process on the shared cores does not count.
  const times: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const start = performance.now();
    step(i);
    times.push((performance.now() - start) / 1000);
  }
  const stepSeconds = times.sort((a, b) => a - b)[Math.floor(steps / 2)];
  optimizer.dispose();
  tf.dispose([inputs.patches, inputs.params, inputs.timeSteps]);
  model.dispose();
  return { tokensPerSecond: (shape.batch * shape.window * grid * grid) / stepSeconds, stepSeconds, loss };
}

/**
 * The velocity CNN alone at the step's shapes: forward on the batch's non-context patches, the MSE to a random
 * target, gradients to its weights and to the condition (as in the step, where the condition is the backbone's
 * output); the median over `steps`. Shows how much of the step the CNN takes.
 */
function cnnSeconds(shape: Shape, steps: number): number {
  const p = shape.patchSize;
  const m = shape.batch * (shape.window - shape.context) * (shape.n / p) ** 2;
  const cnn = new VelocityCnn({
    patchSize: p,
    condChannels: 2,
    channels: shape.cnn.channels,
    blocks: shape.cnn.blocks,
    residualFactor: 2,
    kernelSize: 3,
    seed: 5,
  });
  const cond = tf.variable(tf.randomNormal([m, 2 * p * p], 0, 1, 'float32', 6));
  const x = tf.randomNormal([m, p * p], 0, 1, 'float32', 7);
  const tau = tf.randomUniform([m], 0, 1, 'float32', 8);
  const target = tf.randomNormal([m, p * p], 0, 1, 'float32', 9);
  const variables = [cond, ...cnn.namedWeights().map(([, v]) => v)];
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.mean<tf.Scalar>(tf.square(tf.sub(cnn.apply(x, tau, cond), target))),
      variables,
    );
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step();
    times.push((performance.now() - start) / 1000);
  }
  tf.dispose([cond, x, tau, target]);
  cnn.dispose();
  return times.sort((a, b) => a - b)[Math.floor(steps / 2)];
}

// The same training step in PyTorch: a Qwen2 decoder (RMSNorm, rotate-half rotary, GQA, q/k/v biases,
// SwiGLU MLP), the patch/parameter connectors, the velocity CNN with the same layers, the CFM loss, AdamW.
const torchScript = String.raw`
import json, sys, time, math
import torch
import torch.nn as nn
import torch.nn.functional as F
s = json.loads(sys.argv[1]); torch.manual_seed(0); torch.set_num_threads(int(sys.argv[2]))
H, L, nh, nkv, I = s['hidden'], s['layers'], s['heads'], s['kvHeads'], s['intermediate']
d = H // nh; g = s['n'] // s['patchSize']; P = s['patchSize']; N = g * g; S = N + g + 1; W = s['window']; B = s['batch']; T = 8 + W * S
class Norm(nn.Module):
    def __init__(self): super().__init__(); self.w = nn.Parameter(torch.ones(H))
    def forward(self, x): return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
class Block(nn.Module):
    def __init__(self):
        super().__init__(); self.n1 = Norm(); self.n2 = Norm()
        self.q = nn.Linear(H, nh * d); self.k = nn.Linear(H, nkv * d); self.v = nn.Linear(H, nkv * d); self.o = nn.Linear(nh * d, H, bias=False)
        self.gate = nn.Linear(H, I, bias=False); self.up = nn.Linear(H, I, bias=False); self.down = nn.Linear(I, H, bias=False)
    def forward(self, x, cos, sin, mask):
        h = self.n1(x)
        q = self.q(h).view(B, T, nh, d).transpose(1, 2); k = self.k(h).view(B, T, nkv, d).transpose(1, 2); v = self.v(h).view(B, T, nkv, d).transpose(1, 2)
        rot = lambda t: torch.cat((-t[..., d // 2:], t[..., :d // 2]), -1)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        k = k.repeat_interleave(nh // nkv, 1); v = v.repeat_interleave(nh // nkv, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + mask, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, H))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))
C = s['cnn']['channels']
class Res(nn.Module):
    def __init__(self): super().__init__(); self.a = nn.Conv2d(C, 2 * C, 3, padding=1, bias=False); self.b = nn.Conv2d(2 * C, C, 1, bias=False)
    def forward(self, x): return x + self.b(F.silu(self.a(F.silu(x))))
class Model(nn.Module):
    def __init__(self):
        super().__init__(); self.blocks = nn.ModuleList([Block() for _ in range(L)]); self.norm = Norm()
        self.patch = nn.Linear(P * P, H); self.params = nn.ModuleList([nn.Linear(1, H) for _ in range(7)]); self.tok = nn.Parameter(torch.randn(3, H))
        self.cond = nn.Linear(H, 2 * P * P); self.cin = nn.Conv2d(4, C, 3, padding=1); self.res = nn.Sequential(*[Res() for _ in range(s['cnn']['blocks'])]); self.cout = nn.Conv2d(C, 1, 3, padding=1)
model = Model(); opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-3)
inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d)); f = torch.outer(torch.arange(T).float(), inv); emb = torch.cat((f, f), -1); cos, sin = emb.cos(), emb.sin()
mask = torch.full((T, T), -1e9).triu(1)
patches = torch.randn(B, W, N, P * P); params = torch.rand(B, 7, 1)
def step():
    prefix = torch.cat([m(params[:, i:i + 1]) for i, m in enumerate(model.params)] + [model.tok[0].expand(B, 1, H)], 1)
    pe = model.patch(patches).view(B * W * g, g, H)
    rows = torch.cat([pe, model.tok[1].expand(B * W * g, 1, H)], 1).view(B * W, g * (g + 1), H)
    lc = torch.cat([rows, model.tok[2].expand(B * W, 1, H)], 1).view(B, W * S, H)
    x = torch.cat([prefix, lc], 1)
    for b in model.blocks: x = b(x, cos, sin, mask)
    x = model.norm(x)
    pred = x[:, 7:7 + W * S].reshape(B, W, S, H)[:, s['context']:, :g * (g + 1)].reshape(-1, g, g + 1, H)[:, :, :g].reshape(-1, H)
    x1 = patches[:, s['context']:].reshape(-1, P * P); M = x1.shape[0]
    eps = torch.randn_like(x1); t = torch.rand(M, 1); xt = (1 - t) * eps + t * x1
    cond = model.cond(pred).view(M, 2, P, P)
    inp = torch.cat([cond, t.view(M, 1, 1, 1).expand(M, 1, P, P), xt.view(M, 1, P, P)], 1)
    v = model.cout(F.silu(model.res(model.cin(inp)))).view(M, P * P)
    loss = ((v - (x1 - eps)) ** 2).mean(); opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    return loss.item()
step()
n = int(sys.argv[3]); times = []
for _ in range(n):
    t0 = time.perf_counter(); loss = step(); times.append(time.perf_counter() - t0)
dt = sorted(times)[len(times) // 2]
# The velocity CNN alone: forward, loss, backward to its weights and its input (the condition is the backbone's output).
M = B * (W - s['context']) * N; cinp = torch.randn(M, 4, P, P, requires_grad=True); target = torch.randn(M, P * P)
def cnn_step():
    v = model.cout(F.silu(model.res(model.cin(cinp)))).view(M, P * P); opt.zero_grad(); cinp.grad = None
    ((v - target) ** 2).mean().backward()
cnn_step(); cnn_times = []
for _ in range(n):
    t0 = time.perf_counter(); cnn_step(); cnn_times.append(time.perf_counter() - t0)
print(json.dumps({'stepSeconds': dt, 'tokensPerSecond': B * W * N / dt, 'cnnSeconds': sorted(cnn_times)[n // 2], 'loss': loss, 'torch': torch.__version__, 'threads': torch.get_num_threads()}))
`;

/**
 * PyTorch's best on this CPU: the median step with 1 and with 2 threads, the faster of the two. With 2 threads on
 * the 2 shared cores a whole run can be ×10 slower (OpenMP threads waiting on a core another process holds:
 * 106 ms and 1548 ms a step in two back-to-back runs), which would flatter TF.js.
 */
function torchRate(
  shape: Shape,
): { tokensPerSecond: number; stepSeconds: number; cnnSeconds: number; detail: string } | { skipped: string } {
  const check = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (check.status !== 0)
    return {
      skipped: `/usr/bin/python3 cannot import torch (${(check.stderr || check.error?.message || '').trim().split('\n').pop()})`,
    };
  let best: { tokensPerSecond: number; stepSeconds: number; cnnSeconds: number; detail: string } | null = null;
  for (const threads of ['1', '2']) {
    const run = spawnSync(
      '/usr/bin/python3',
      ['-c', torchScript, JSON.stringify(shape), threads, String(quick ? 3 : 5)],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (run.status !== 0)
      return { skipped: `PyTorch run failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` };
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      tokensPerSecond: number;
      stepSeconds: number;
      cnnSeconds: number;
      torch: string;
      threads: number;
    };
    if (!best || result.stepSeconds < best.stepSeconds) {
      best = {
        tokensPerSecond: result.tokensPerSecond,
        stepSeconds: result.stepSeconds,
        cnnSeconds: result.cnnSeconds,
        detail: `torch ${result.torch}, ${result.threads} threads, median step, best of 1 and 2 threads`,
      };
    }
  }
  return best!;
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = {};
  const backend = await selectBackend('wasm');
  installFastWasmKernels();
  console.log(
    `Sampling on ${backend.name} (${backend.device}); medium backbone (hidden ${mediumShape.hidden}, ${mediumShape.layers} blocks), 4×4 patches of 8² per slice (21 tokens), the second of two generated slices timed.`,
  );
  const model = buildModel({ ...mediumShape, cnn: { channels: 16, blocks: 2 } }, 512);
  const sampling: Record<string, { cached: number; uncached: number }> = {};
  console.log(' slices before | cached patches/s | uncached patches/s | cached/uncached');
  for (const before of [1, 4, 12]) {
    const cached = await samplingRate(model, before, true, { solver: 'euler', steps: 1 });
    const uncached = await samplingRate(model, before, false, { solver: 'euler', steps: 1 });
    sampling[before] = { cached, uncached };
    console.log(
      `${String(before).padStart(14)} | ${cached.toFixed(1).padStart(16)} | ${uncached.toFixed(1).padStart(18)} | ${(cached / uncached).toFixed(2).padStart(15)}`,
    );
  }
  const flat = sampling[1].cached / sampling[12].cached;
  const growth = sampling[1].uncached / sampling[12].uncached;
  console.log(
    `Cost per patch from 1 to 12 slices before it: cached ×${flat.toFixed(2)}, uncached ×${growth.toFixed(2)} (a 12× longer sequence).`,
  );
  const rk4 = await samplingRate(model, 12, true, { solver: 'rk4', steps: 8 });
  console.log(
    `With the quickstart's RK4 × 8 (32 CNN evaluations a patch), cached, after 12 slices: ${rk4.toFixed(1)} patches/s.`,
  );
  model.dispose();
  figures.sampling = {
    backend: backend.name,
    patchesPerSecond: sampling,
    costGrowth1to12: { cached: flat, uncached: growth },
    rk4x8Cached12: rk4,
  };

  const training: Record<string, unknown> = {};
  for (const shape of quick ? [quickstartShape] : [quickstartShape, mediumShape]) {
    console.log(
      `\nTraining step, ${shape.name} shapes: batch ${shape.batch} × ${shape.window} slices × ${(shape.n / shape.patchSize) ** 2} patches, hidden ${shape.hidden}, ${shape.layers} blocks, CNN ${shape.cnn.channels}×${shape.cnn.blocks}`,
    );
    const rows: Record<string, unknown> = {};
    // The pure-JavaScript cpu backend takes tens of seconds a step; it is timed on the quickstart shapes only, over one step.
    for (const name of shape === quickstartShape
      ? (['wasm', 'wasm-before', 'cpu'] as const)
      : (['wasm', 'wasm-before'] as const)) {
      const selected = await selectBackend(name === 'cpu' ? 'cpu' : 'wasm');
      const before = name === 'wasm-before';
      if (before) uninstallFastWasmKernels();
      else installFastWasmKernels();
      setConvolutionPath(before ? 'im2col' : 'auto');
      const r = trainingRate(shape, name === 'cpu' ? 1 : quick ? 3 : 5);
      // The cpu backend's CNN alone would take another minute; its step already shows that backend's speed.
      const cnn = name === 'cpu' ? undefined : cnnSeconds(shape, quick ? 3 : 5);
      setConvolutionPath('auto');
      rows[name] = { ...r, cnnSeconds: cnn };
      const note = before ? ', stock kernels, im2col convolutions' : name === 'wasm' ? ', fast kernels, tf.conv2d' : '';
      const cnnNote = cnn === undefined ? '' : `; the velocity CNN alone ${(cnn * 1000).toFixed(0)} ms`;
      console.log(
        `  TF.js ${name.padEnd(11)} ${r.tokensPerSecond.toFixed(0).padStart(8)} patch tokens/s  (${(r.stepSeconds * 1000).toFixed(0)} ms/step${cnnNote}; ${selected.device}${note})`,
      );
    }
    installFastWasmKernels();
    const torch = torchRate(shape);
    rows.torch = torch;
    if ('skipped' in torch) console.log(`  PyTorch           skipped: ${torch.skipped}`);
    else {
      console.log(
        `  PyTorch           ${torch.tokensPerSecond.toFixed(0).padStart(8)} patch tokens/s  (${(torch.stepSeconds * 1000).toFixed(0)} ms/step; the velocity CNN alone ${(torch.cnnSeconds * 1000).toFixed(0)} ms; ${torch.detail})`,
      );
      const wasm = (rows['wasm'] as { tokensPerSecond: number }).tokensPerSecond;
      const before = (rows['wasm-before'] as { tokensPerSecond: number }).tokensPerSecond;
      console.log(
        `  wasm / PyTorch: ${(wasm / torch.tokensPerSecond).toFixed(2)} (before: ${(before / torch.tokensPerSecond).toFixed(2)}); ` +
          `wasm speed-up from the conv2d gradient kernels and fast kernels: ×${(wasm / before).toFixed(2)}`,
      );
    }
    training[shape.name] = rows;
  }
  figures.training = training;
  console.log(JSON.stringify({ bench: 'sample', ...figures }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
