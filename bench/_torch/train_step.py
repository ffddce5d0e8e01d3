"""PyTorch reference for bench/train_step.ts: the same Qwen2 stack, weights, batch and loss, one
forward + backward + Adam step, timed. Follows Hugging Face's Qwen2 conventions
(transformers/models/qwen2/modeling_qwen2.py: RMSNorm in float32, rotate-half rotary, repeat_kv GQA,
q/k/v biases, SiLU-gated MLP, pre-norm residuals, final norm), written out here so it needs only torch.

Usage: train_step.py <folder> <warmup> <iterations>
The folder (written by the TS bench) holds config.json and one .npy per tensor: every weight by its HF key,
plus input.npy (B, T, H) and target.npy (B, T, H). Prints one JSON line: the loss before the step, the
per-step times, and the torch/BLAS set-up that ran.
"""
import json, math, os, sys, time

import numpy as np
import torch


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(params, cfg, x):
    b, t, h = x.shape
    n_heads, n_kv = cfg["numAttentionHeads"], cfg["numKeyValueHeads"]
    d = h // n_heads
    inv_freq = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    freqs = torch.outer(torch.arange(t, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()  # (T, d)
    mask = None
    if cfg["causal"]:
        mask = torch.full((t, t), -1e9).triu(1)
    eps = cfg["rmsNormEps"]
    for i in range(cfg["numHiddenLayers"]):
        p = lambda name: params[f"model.layers.{i}.{name}"]
        hs = rms_norm(x, p("input_layernorm.weight"), eps)
        q = torch.nn.functional.linear(hs, p("self_attn.q_proj.weight"), p("self_attn.q_proj.bias"))
        k = torch.nn.functional.linear(hs, p("self_attn.k_proj.weight"), p("self_attn.k_proj.bias"))
        v = torch.nn.functional.linear(hs, p("self_attn.v_proj.weight"), p("self_attn.v_proj.bias"))
        q = q.view(b, t, n_heads, d).transpose(1, 2)
        k = k.view(b, t, n_kv, d).transpose(1, 2)
        v = v.view(b, t, n_kv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = n_heads // n_kv
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(d)
        if mask is not None:
            scores = scores + mask
        weights = torch.softmax(scores, dim=-1)
        attended = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, h)
        x = x + torch.nn.functional.linear(attended, p("self_attn.o_proj.weight"))
        hs = rms_norm(x, p("post_attention_layernorm.weight"), eps)
        gate = torch.nn.functional.linear(hs, p("mlp.gate_proj.weight"))
        up = torch.nn.functional.linear(hs, p("mlp.up_proj.weight"))
        x = x + torch.nn.functional.linear(torch.nn.functional.silu(gate) * up, p("mlp.down_proj.weight"))
    return rms_norm(x, params["model.norm.weight"], eps)


def blas_library():
    with open("/proc/self/maps") as maps:
        paths = [line.split()[-1] for line in maps if "blas" in line]
    preferred = [p for p in paths if "lapack" not in p]
    return (preferred or paths or ["none found in /proc/self/maps"])[0]


def main():
    folder, warmup, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = os.environ.get("L3M_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    cfg = json.load(open(os.path.join(folder, "config.json")))
    params = {}
    for name in cfg["weights"]:
        params[name] = torch.from_numpy(np.load(os.path.join(folder, name + ".npy"))).requires_grad_(True)
    x = torch.from_numpy(np.load(os.path.join(folder, "input.npy")))
    target = torch.from_numpy(np.load(os.path.join(folder, "target.npy")))
    optimizer = torch.optim.Adam(list(params.values()), lr=cfg["learningRate"])

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean(torch.mean((forward(params, cfg, x) - target) ** 2, dim=-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    times = []
    for i in range(warmup + iterations):
        start = time.perf_counter()
        step()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "loss": first_loss,
        "ms": times,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "LD_LIBRARY_PATH") if k in os.environ},
    }))


if __name__ == "__main__":
    main()
