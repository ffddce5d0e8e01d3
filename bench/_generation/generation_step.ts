// The generation task's training step at the quickstart and a medium shape, in TF.js and in PyTorch on the same
// CPU: shared by bench/sample (throughput in patch tokens per second) and bench/train_step (the step beside the
// regression shapes, as a ratio to PyTorch at equal threads and to the matrix-product peak).
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { GenerationModel } from '../../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt } from '../../sidecar/tasks/generation/generation_prompt';
import { VelocityCnn } from '../../sidecar/tasks/generation/velocity_cnn';
import { failureReason } from '../_torch/torch_runner';
import { backboneStepFlops, benchBackbone } from '../_shapes/regression_shapes';

export interface GenerationShape {
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
export const quickstartShape: GenerationShape = {
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
export const mediumShape: GenerationShape = {
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

export function buildModel(shape: GenerationShape, maxPositions: number): GenerationModel {
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

export function trainingRate(
  shape: GenerationShape,
  steps: number,
): { tokensPerSecond: number; stepSeconds: number; loss: number } {
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
export function cnnSeconds(shape: GenerationShape, steps: number): number {
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

/** One PyTorch measurement of the generation step. */
export interface TorchGenerationResult {
  threads: number;
  tokensPerSecond: number;
  stepSeconds: number;
  cnnSeconds: number;
  torch: string;
}

/**
 * The generation step in PyTorch with 1 and with 2 threads, each the median step of its own process (torch as
 * installed: its BLAS is only used for the few products PyTorch does not run in its own kernels). Both are kept:
 * a comparison is made at equal threads, and with 2 threads on 2 shared cores a whole run can be ×10 slower
 * (OpenMP threads waiting on a core another process holds: 106 ms and 1548 ms a step in two back-to-back runs).
 */
export function torchGenerationRates(
  shape: GenerationShape,
  steps: number,
  threadCounts: number[] = [1, 2],
): { results: TorchGenerationResult[]; failures: string[] } | { skipped: string } {
  const check = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (check.status !== 0) return { skipped: `/usr/bin/python3 cannot import torch (${failureReason(check)})` };
  const results: TorchGenerationResult[] = [];
  const failures: string[] = [];
  for (const threads of threadCounts) {
    const run = spawnSync(
      '/usr/bin/python3',
      ['-c', torchScript, JSON.stringify(shape), String(threads), String(steps)],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    try {
      if (run.status !== 0 || run.signal) throw new Error('failed');
      results.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as TorchGenerationResult);
    } catch {
      failures.push(`${threads} thread${threads > 1 ? 's' : ''}: ${failureReason(run)}`);
    }
  }
  return { results, failures };
}

/** Matrix-product FLOPs of one generation training step: the backbone's (3 × forward) and the velocity CNN's. */
export function generationStepFlops(shape: GenerationShape): { backbone: number; cnn: number } {
  const grid = shape.n / shape.patchSize;
  const perSlice = grid * (grid + 1) + 1;
  const length = 8 + shape.window * perSlice;
  const backbone = backboneStepFlops(
    benchBackbone(shape.hidden, shape.layers, shape.heads, shape.kvHeads, shape.intermediate, true),
    shape.batch,
    length,
  );
  const m = shape.batch * (shape.window - shape.context) * grid * grid;
  const pixels = m * shape.patchSize ** 2;
  const c = shape.cnn.channels;
  const convIn = 2 * pixels * 9 * 4 * c;
  const block = 2 * pixels * (9 * c * 2 * c + 2 * c * c);
  const convOut = 2 * pixels * 9 * c;
  return { backbone, cnn: 3 * (convIn + shape.cnn.blocks * block + convOut) };
}
