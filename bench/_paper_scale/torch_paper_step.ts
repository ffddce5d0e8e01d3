// The paper's generation training step in PyTorch on the same CPU, at the shapes bench/paper_scale trains: a
// Qwen2 decoder of Qwen2.5-0.5B's shape with frozen random weights and LoRA adapters (rank r, α = 2r) on its seven
// projections, norms trained; the patch, parameter and time connectors; the velocity CNN; the CFM loss; AdamW on
// the trained parameters only. Each block and each chunk of the CNN's patches runs under
// torch.utils.checkpoint, as L3M's training.recompute_activations does, so both keep the same activations.
// The script grows bench/_generation/generation_step.ts's small-shape one by LoRA, the chat prompt's length,
// the token-embedding table (allocated, as in L3M, though a random backbone's prompt never reads it) and
// checkpointing.
import { spawnSync } from 'node:child_process';
import { failureReason } from '../_torch/torch_runner';

export interface PaperStepShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  rank: number;
  n: number;
  patchSize: number;
  window: number;
  context: number;
  prefix: number;
  batch: number;
  cnn: { channels: number; blocks: number; chunkRows: number };
}

const script = String.raw`
import json, sys, time, math, resource
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
s = json.loads(sys.argv[1]); torch.manual_seed(0); torch.set_num_threads(int(sys.argv[2]))
H, L, nh, nkv, I, r = s['hidden'], s['layers'], s['heads'], s['kvHeads'], s['intermediate'], s['rank']
d = H // nh; g = s['n'] // s['patchSize']; P = s['patchSize']; N = g * g; S = N + g + 1; W = s['window']; B = s['batch']; T = s['prefix'] + W * S
class Lora(nn.Module):
    def __init__(self, i, o, bias):
        super().__init__(); self.base = nn.Linear(i, o, bias=bias); self.base.requires_grad_(False)
        self.a = nn.Parameter(torch.randn(r, i) / math.sqrt(i)); self.b = nn.Parameter(torch.zeros(o, r))
    def forward(self, x): return self.base(x) + 2.0 * F.linear(F.linear(x, self.a), self.b)
class Norm(nn.Module):
    def __init__(self): super().__init__(); self.w = nn.Parameter(torch.ones(H))
    def forward(self, x): return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
class Block(nn.Module):
    def __init__(self):
        super().__init__(); self.n1 = Norm(); self.n2 = Norm()
        self.q = Lora(H, nh * d, True); self.k = Lora(H, nkv * d, True); self.v = Lora(H, nkv * d, True); self.o = Lora(nh * d, H, False)
        self.gate = Lora(H, I, False); self.up = Lora(H, I, False); self.down = Lora(I, H, False)
    def forward(self, x, cos, sin, mask):
        h = self.n1(x)
        q = self.q(h).view(B, T, nh, d).transpose(1, 2); k = self.k(h).view(B, T, nkv, d).transpose(1, 2); v = self.v(h).view(B, T, nkv, d).transpose(1, 2)
        rot = lambda t: torch.cat((-t[..., d // 2:], t[..., :d // 2]), -1)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        k = k.repeat_interleave(nh // nkv, 1); v = v.repeat_interleave(nh // nkv, 1)
        a = F.dropout(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + mask, -1), 0.01, True) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, H))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))
C = s['cnn']['channels']
class Res(nn.Module):
    def __init__(self): super().__init__(); self.a = nn.Conv2d(C, 2 * C, 3, padding=1, bias=False); self.b = nn.Conv2d(2 * C, C, 1, bias=False)
    def forward(self, x): return x + self.b(F.silu(self.a(F.silu(x))))
class Model(nn.Module):
    def __init__(self):
        super().__init__(); self.embed = nn.Embedding(s['vocab'], H); self.embed.requires_grad_(False)
        self.blocks = nn.ModuleList([Block() for _ in range(L)]); self.norm = Norm()
        self.patch = nn.Linear(P * P, H); self.params = nn.ModuleList([nn.Linear(1, H) for _ in range(7)]); self.tok = nn.Parameter(torch.randn(s['prefix'], H))
        self.cond = nn.Linear(H, 2 * P * P); self.cin = nn.Conv2d(4, C, 3, padding=1); self.res = nn.Sequential(*[Res() for _ in range(s['cnn']['blocks'])]); self.cout = nn.Conv2d(C, 1, 3, padding=1)
    def velocity(self, inp): return self.cout(F.silu(self.res(self.cin(inp))))
model = Model(); trained = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(trained, lr=1e-4, weight_decay=1e-3)
inv = 1.0 / (1e6 ** (torch.arange(0, d, 2).float() / d)); f = torch.outer(torch.arange(T).float(), inv); emb = torch.cat((f, f), -1); cos, sin = emb.cos(), emb.sin()
mask = torch.full((T, T), -1e9).triu(1)
patches = torch.randn(B, W, N, P * P); params = torch.rand(B, 7, 1)
def step():
    prefix = torch.cat([model.tok[:s['prefix'] - 7].expand(B, -1, H)] + [m(params[:, i:i + 1]) for i, m in enumerate(model.params)], 1)
    pe = model.patch(patches).view(B * W * g, g, H)
    rows = torch.cat([pe, model.tok[0].expand(B * W * g, 1, H)], 1).view(B * W, g * (g + 1), H)
    lc = torch.cat([rows, model.tok[1].expand(B * W, 1, H)], 1).view(B, W * S, H)
    x = torch.cat([prefix, lc], 1)
    for b in model.blocks: x = checkpoint(b, x, cos, sin, mask, use_reentrant=False)
    x = model.norm(x)
    pred = x[:, s['prefix'] - 1:s['prefix'] - 1 + W * S].reshape(B, W, S, H)[:, s['context']:, :g * (g + 1)].reshape(-1, g, g + 1, H)[:, :, :g].reshape(-1, H)
    x1 = patches[:, s['context']:].reshape(-1, P * P); M = x1.shape[0]
    eps = torch.randn_like(x1); t = torch.rand(M, 1); xt = (1 - t) * eps + t * x1
    cond = model.cond(pred).view(M, 2, P, P)
    inp = torch.cat([cond, t.view(M, 1, 1, 1).expand(M, 1, P, P), xt.view(M, 1, P, P)], 1)
    k = s['cnn']['chunkRows']
    v = torch.cat([checkpoint(model.velocity, inp[i:i + k], use_reentrant=False) for i in range(0, M, k)]).view(M, P * P)
    loss = ((v - (x1 - eps)) ** 2).mean(); opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(trained, 1.0); opt.step()
    return loss.item()
t0 = time.perf_counter(); step(); first = time.perf_counter() - t0
n = int(sys.argv[3]); times = []
for _ in range(n):
    t0 = time.perf_counter(); loss = step(); times.append(time.perf_counter() - t0)
print(json.dumps({'stepSeconds': sorted(times)[len(times) // 2] if times else first, 'firstStepSeconds': first, 'loss': loss if times else None,
  'peakRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'trained': sum(p.numel() for p in trained), 'torch': torch.__version__, 'threads': torch.get_num_threads()}))
`;

export interface TorchPaperResult {
  stepSeconds: number;
  firstStepSeconds: number;
  peakRssBytes: number;
  trained: number;
  torch: string;
  threads: number;
}

/** The step in PyTorch at `threads` threads, `steps` timed steps after a first one; or why it did not run. */
export function torchPaperStep(
  shape: PaperStepShape,
  threads: number,
  steps: number,
  timeoutSeconds: number,
): TorchPaperResult | { skipped: string } {
  const check = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (check.status !== 0) return { skipped: `/usr/bin/python3 cannot import torch (${failureReason(check)})` };
  const run = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(shape), String(threads), String(steps)], {
    encoding: 'utf8',
    timeout: timeoutSeconds * 1000,
  });
  try {
    if (run.status !== 0 || run.signal) throw new Error('failed');
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as TorchPaperResult;
  } catch {
    return { skipped: `PyTorch failed: ${failureReason(run)}` };
  }
}
