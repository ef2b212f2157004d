"""How fast the synthetic world renders at the lite image size (64 px, 12 + 2 bands).

Usage::

    python benchmarks/bench_data.py [--samples 2000] [--img-size 64]

Prints samples per second in one process (wall clock and per CPU second, the latter
less sensitive to other jobs on a shared machine) and through a DataLoader with 2
workers and batches of 64, as the pretraining engine reads it.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.data import DataLoader

from fusionx_lite.data import SyntheticWorld


def one_process(world: SyntheticWorld, n: int) -> tuple[float, float]:
    """Samples per wall-clock second and per CPU second, reading one sample at a time."""
    world[0]  # warm caches
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        world[i]
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def data_loader(world: SyntheticWorld, n: int, workers: int, batch: int = 64) -> float:
    """Samples per wall-clock second through a DataLoader (after one warm-up batch)."""
    loader = DataLoader(world, batch_size=batch, num_workers=workers, persistent_workers=False)
    it = iter(loader)
    next(it)  # starts the workers
    seen, start = 0, time.perf_counter()
    for b in it:
        seen += len(b["label"])
        if seen >= n:
            break
    return seen / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=2000, help="samples per measurement")
    p.add_argument("--img-size", type=int, default=64, help="image side in pixels")
    args = p.parse_args()
    torch.set_num_threads(1)
    world = SyntheticWorld(length=4 * args.samples, img_size=args.img_size, seed=0)
    wall, cpu = one_process(world, args.samples)
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} img_size={args.img_size}")
    print(f"synthetic, 1 process        : {wall:7.0f} samples/s ({cpu:.0f} per CPU second)")
    rate = data_loader(world, args.samples, workers=2)
    print(f"synthetic, DataLoader 2 wkrs: {rate:7.0f} samples/s (batch 64)")


if __name__ == "__main__":
    main()
