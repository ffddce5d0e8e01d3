"""PyTorch on the GPU for the GPU check (bench/gpu_check.ts): the regression step of bench/_torch/train_step.py
(the same Qwen2 stack, weights, batch, loss and Adam), on CUDA, each step timed to completion
(torch.cuda.synchronize). Needs train_step.py beside it.

Usage: gpu_step.py <folder> <warmup> <iterations>  (the folder as train_step.py reads it)
Prints one JSON line: the loss before the first step, the per-step times, the device and torch version.
"""
import json, os, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step import forward  # noqa: E402


def main():
    folder, warmup, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False"}))
        sys.exit(1)
    device = torch.device("cuda")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    params = {}
    for name in cfg["weights"]:
        params[name] = torch.from_numpy(np.load(os.path.join(folder, name + ".npy"))).to(device).requires_grad_(True)
    x = torch.from_numpy(np.load(os.path.join(folder, "input.npy"))).to(device)
    target = torch.from_numpy(np.load(os.path.join(folder, "target.npy"))).to(device)
    optimizer = torch.optim.Adam(list(params.values()), lr=cfg["learningRate"])

    # train_step.forward builds its rotary tables and causal mask with factory functions (torch.arange,
    # torch.full), which then land on the GPU too.
    torch.set_default_tensor_type(torch.cuda.FloatTensor)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean(torch.mean((forward(params, cfg, x) - target) ** 2, dim=-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    times = []
    for i in range(warmup + iterations):
        torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "loss": first_loss,
        "ms": times,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0),
    }))


if __name__ == "__main__":
    main()
