#!/usr/bin/python3
"""Independent PyTorch reference for the TF.js Qwen2 backbone (parity fixtures).

Implements Qwen2 the way Hugging Face transformers' `modeling_qwen2.py` defines it -- RMSNorm in float32
semantics, rotary embedding in the "rotate half" convention (dimension i pairs with i + d/2,
inv_freq = theta^(-2i/d)), grouped-query attention via repeat_kv, q/k/v biases, scale 1/sqrt(d), causal mask
or none, SiLU-gated MLP, pre-norm blocks, final norm, tied or separate LM head -- plus peft-style LoRA
(y += alpha/r * B A x) and a key/value cache. It reads the tiny checkpoints that make_checkpoints.ts wrote
(parsing safetensors with struct/json + numpy: the `safetensors` Python package is not available here),
computes in float64 (so the fixtures are the exact answer and the float32 TF.js code is judged against it),
and writes test/reference/fixtures/expected.safetensors, which is committed. The tests need no PyTorch.

Run: /usr/bin/python3 test/reference/reference_qwen2.py
"""
import json
import math
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


# ---- safetensors, by the format spec: u64 LE header length, JSON header, data region ----
def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = data[begin:end]
        dtype = info["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif dtype == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif dtype == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            raise ValueError(f"{path}: unsupported dtype {dtype} for {name}")
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":"))
    h += " " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h.encode("utf-8"))
        for b in blobs:
            f.write(b)


def load_checkpoint(folder):
    config = json.load(open(os.path.join(folder, "config.json")))
    index = os.path.join(folder, "model.safetensors.index.json")
    weights = {}
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            weights.update(read_safetensors(os.path.join(folder, shard)))
    else:
        weights.update(read_safetensors(os.path.join(folder, "model.safetensors")))
    return config, weights


# ---- the model, following transformers/models/qwen2/modeling_qwen2.py ----
class Qwen2Reference:
    def __init__(self, config, weights, lora=None, lora_scale=0.0, causal=True):
        self.c = config
        self.w = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
        self.lora = {k: v.clone().requires_grad_(True) for k, v in (lora or {}).items()}
        self.lora_scale = lora_scale
        self.causal = causal
        self.n_heads = config["num_attention_heads"]
        self.n_kv = config["num_key_value_heads"]
        self.head_dim = config["hidden_size"] // self.n_heads

    def linear(self, x, prefix, bias=False):
        y = x @ self.w[prefix + ".weight"].T
        if bias:
            y = y + self.w[prefix + ".bias"]
        a = self.lora.get(prefix + ".lora_A.weight")
        if a is not None:
            y = y + self.lora_scale * ((x @ a.T) @ self.lora[prefix + ".lora_B.weight"].T)
        return y

    def rms_norm(self, x, name):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.w[name] * (x * torch.rsqrt(variance + self.c["rms_norm_eps"]))

    def rotary(self, positions):
        d = self.head_dim
        inv_freq = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        freqs = torch.outer(torch.tensor(positions, dtype=torch.float64), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def attention(self, x, i, cos, sin, cache):
        B, T, _ = x.shape
        p = f"model.layers.{i}.self_attn"
        q = self.linear(x, p + ".q_proj", True).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.linear(x, p + ".k_proj", True).view(B, T, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.linear(x, p + ".v_proj", True).view(B, T, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        past = 0
        if cache is not None:
            if i in cache:
                past = cache[i][0].shape[2]
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
        groups = self.n_heads // self.n_kv
        k = k[:, :, None].expand(B, self.n_kv, groups, k.shape[2], self.head_dim).reshape(B, self.n_heads, -1, self.head_dim)
        v = v[:, :, None].expand(B, self.n_kv, groups, v.shape[2], self.head_dim).reshape(B, self.n_heads, -1, self.head_dim)
        scores = q @ k.transpose(2, 3) / math.sqrt(self.head_dim)
        if self.causal:
            S = k.shape[2]
            allowed = torch.arange(S)[None, :] <= (past + torch.arange(T))[:, None]
            scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        out = (probs @ v).transpose(1, 2).reshape(B, T, self.n_heads * self.head_dim)
        return self.linear(out, p + ".o_proj")

    def mlp(self, x, i):
        p = f"model.layers.{i}.mlp"
        return self.linear(torch.nn.functional.silu(self.linear(x, p + ".gate_proj")) * self.linear(x, p + ".up_proj"), p + ".down_proj")

    def embed(self, ids):
        return self.w["model.embed_tokens.weight"][torch.tensor(ids)]

    def forward(self, embeds, positions, cache=None):
        cos, sin = self.rotary(positions)
        h = embeds
        for i in range(self.c["num_hidden_layers"]):
            h = h + self.attention(self.rms_norm(h, f"model.layers.{i}.input_layernorm.weight"), i, cos, sin, cache)
            h = h + self.mlp(self.rms_norm(h, f"model.layers.{i}.post_attention_layernorm.weight"), i)
        hidden = self.rms_norm(h, "model.norm.weight")
        head = self.w["model.embed_tokens.weight"] if self.c["tie_word_embeddings"] else self.w["lm_head.weight"]
        return hidden, hidden @ head.T


def main():
    torch.set_default_dtype(torch.float64)
    inputs = json.load(open(os.path.join(FIXTURES, "inputs.json")))
    extra = read_safetensors(os.path.join(FIXTURES, "inputs.safetensors"))
    ids, T = inputs["ids"], len(inputs["ids"][0])
    positions = list(range(T))
    out = {}

    config, weights = load_checkpoint(os.path.join(FIXTURES, "tied_f32"))
    for causal in (True, False):
        m = Qwen2Reference(config, weights, causal=causal)
        hidden, logits = m.forward(m.embed(ids), positions)
        tag = "causal" if causal else "noncausal"
        out[f"tied_f32.{tag}.hidden"] = hidden
        out[f"tied_f32.{tag}.logits"] = logits

    # Mixed inputs (token embeddings with two vectors scattered in) and gradients of sum(hidden * probe).
    m = Qwen2Reference(config, weights)
    vectors = extra["vectors"].clone().requires_grad_(True)
    embeds = m.embed(ids).clone()
    for n, p in enumerate(inputs["vectorPositions"]):
        embeds[:, p, :] = vectors[:, n, :]
    hidden, _ = m.forward(embeds, positions)
    (hidden * extra["probe"]).sum().backward()
    out["mixed.hidden"] = hidden
    out["mixed.grad.vectors"] = vectors.grad
    for key in ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.bias",
                "model.layers.1.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight", "model.norm.weight",
                "model.embed_tokens.weight"]:
        out[f"mixed.grad.{key}"] = m.w[key].grad

    # LoRA with non-zero B (rank 2, alpha 4 -> scale 2) on every linear layer.
    lora = read_safetensors(os.path.join(FIXTURES, "lora_adapter.safetensors"))
    m = Qwen2Reference(config, weights, lora=lora, lora_scale=4 / 2)
    hidden, logits = m.forward(m.embed(ids), positions)
    (hidden * extra["probe"]).sum().backward()
    out["lora.logits"] = logits
    for key in ["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
                "model.layers.1.mlp.up_proj.lora_B.weight", "model.layers.1.self_attn.v_proj.lora_A.weight"]:
        out[f"lora.grad.{key}"] = m.lora[key].grad

    # Incremental decoding with a cache: the prefix, then the rest at positions prefix..T-1.
    prefix = inputs["cachePrefix"]
    m = Qwen2Reference(config, weights)
    cache = {}
    with torch.no_grad():
        first, _ = m.forward(m.embed([row[:prefix] for row in ids]), positions[:prefix], cache)
        second, _ = m.forward(m.embed([row[prefix:] for row in ids]), positions[prefix:], cache)
    out["cache.hidden"] = torch.cat([first, second], dim=1)

    for folder in ["untied_bf16_sharded", "tied_f16"]:
        config2, weights2 = load_checkpoint(os.path.join(FIXTURES, folder))
        m = Qwen2Reference(config2, weights2)
        hidden, logits = m.forward(m.embed(ids), positions)
        out[f"{folder}.causal.logits"] = logits

    write_safetensors(os.path.join(FIXTURES, "expected.safetensors"), out)
    print(f"torch {torch.__version__}: wrote {len(out)} reference tensors to fixtures/expected.safetensors")


if __name__ == "__main__":
    main()
