"""Pretraining throughput through the real engine (fusionx_lite.train.pretrain).

    .venv/bin/python benchmarks/bench_train.py            # lite on CPU; base on a GPU if any
    .venv/bin/python benchmarks/bench_train.py --steps 40 --batch-size 64 --threads 1

Inputs are random tensors of the right shapes: speed does not depend on pixel values,
and this keeps data generation out of the measurement. The first step (lazy set-up)
is run once before timing.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from fusionx_lite import FusionXConfig
from fusionx_lite.data import ArrayDataset
from fusionx_lite.train import pretrain


def fake_data(cfg: FusionXConfig, n: int) -> ArrayDataset:
    g = torch.Generator().manual_seed(0)
    size = (cfg.img_size, cfg.img_size)
    arrays = {
        "sar": torch.randn(n, cfg.sar_channels, *size, generator=g),
        "optical": torch.randn(n, cfg.optical_channels, *size, generator=g),
        "label": torch.zeros(n, 1),
    }
    return ArrayDataset(arrays, ["class"], [f"B{i}" for i in range(cfg.optical_channels)])


def bench(preset: str, device: str, steps: int, batch_size: int) -> dict:
    cfg = FusionXConfig.preset(preset)
    data = fake_data(cfg, batch_size * steps)
    pretrain(
        cfg,
        fake_data(cfg, batch_size),
        epochs=1,
        batch_size=batch_size,
        device=device,
        progress=False,
    )  # warm-up: kernels, allocator
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = pretrain(cfg, data, epochs=1, batch_size=batch_size, device=device, progress=False)
    seconds = time.perf_counter() - start
    row = {
        "preset": preset,
        "img": cfg.img_size,
        "device": result.device,
        "batch": batch_size,
        "steps": result.steps,
        "samples_per_s": result.samples_per_s,
        "wall_s": seconds,
    }
    if device == "cuda":
        row["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows = [bench("lite", "cpu", args.steps, args.batch_size)]
    if torch.cuda.is_available():
        rows.append(bench("base", "cuda", args.steps, 64))
    else:
        print("no CUDA GPU: skipping the base preset (image 120) GPU measurement")
    for r in rows:
        mem = f", peak memory {r['peak_mem_gib']:.2f} GiB" if "peak_mem_gib" in r else ""
        print(
            f"pretrain {r['preset']} (image {r['img']}) on {r['device']}: "
            f"{r['samples_per_s']:.1f} samples/s (batch {r['batch']}, {r['steps']} steps, "
            f"{r['wall_s']:.1f} s){mem}"
        )


if __name__ == "__main__":
    main()
