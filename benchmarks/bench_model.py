"""Model speed on this machine: prints figures, asserts nothing.

    python benchmarks/bench_model.py [--presets tiny lite] [--batch-size 64] [--steps 10]

For each preset it reports
  * pretraining step throughput (forward + backward + AdamW step), samples/s;
  * the same for fusion="concat" at equal width and depth, and the cost ratio in time
    and in FLOPs (FusionX carries two token streams, concat one);
  * the encoder's speed-up from encoding only visible tokens (mask ratio 0.75)
    against encoding every token;
  * the achieved GFLOP/s of a training step (FLOPs counted by
    torch.utils.flop_counter) against this machine's measured fp32 matmul GFLOP/s and
    against a dense stack of transformer blocks of the same width.
Targets (issue 2): cross <= 1.3x concat; visible-only >= 2.5x; lite >= 50% of matmul.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from fusionx_lite import FusionXConfig, FusionXMAE
from fusionx_lite.attention import Block
from fusionx_lite.masking import make_masks


def timeit(fn, steps: int, warmup: int = 2) -> float:
    """Median seconds per call of ``fn`` over ``steps`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def train_step_fn(cfg: FusionXConfig, batch_size: int):
    torch.manual_seed(0)
    model = FusionXMAE(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sar = torch.randn(batch_size, cfg.sar_channels, cfg.img_size, cfg.img_size)
    optical = torch.randn(batch_size, cfg.optical_channels, cfg.img_size, cfg.img_size)
    gen = torch.Generator().manual_seed(0)

    def step():
        out = model(sar, optical, generator=gen)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    return model, step, (sar, optical)


def encoder_speedup(model: FusionXMAE, images, steps: int) -> float:
    sar, optical = images
    n, cfg = sar.shape[0], model.cfg
    gen = torch.Generator().manual_seed(0)
    m_sar, m_opt = make_masks(n, cfg.num_patches, 0.75, cfg.strategy, gen)
    masks = {"sar": m_sar, "optical": m_opt}
    inputs = {"sar": sar, "optical": optical}

    @torch.no_grad()
    def visible():
        model.forward_encoder(inputs, masks)

    @torch.no_grad()
    def all_tokens():
        model.forward_encoder(inputs, None)

    return timeit(all_tokens, steps) / timeit(visible, steps)


def matmul_gflops(size: int = 1024, steps: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / timeit(lambda: a @ b, steps) / 1e9


def dense_blocks_gflops(cfg: FusionXConfig, batch_size: int, steps: int) -> float:
    """A plain stack of self-attention blocks at the preset's width, training."""
    blocks = torch.nn.Sequential(*[Block(cfg.embed_dim, cfg.num_heads) for _ in range(4)])
    opt = torch.optim.AdamW(blocks.parameters(), lr=1e-4)
    x = torch.randn(batch_size, 2 * cfg.num_patches, cfg.embed_dim)

    def step():
        loss = blocks(x).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return count_flops(step) / timeit(step, steps) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets", nargs="+", default=["tiny", "lite"], choices=["tiny", "lite", "base"]
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    peak = matmul_gflops(steps=args.steps)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"measured fp32 matmul (1024^3): {peak:.1f} GFLOP/s\n")
    header = (
        f"{'preset':<6} {'cross samp/s':>13} {'concat samp/s':>14} "
        f"{'cross/concat time (FLOPs)':>22} {'vis-only speedup':>17} "
        f"{'step GFLOP/s':>13} {'% matmul':>9} "
        f"{'dense blocks %':>15}"
    )
    print(header)
    for name in args.presets:
        cfg = FusionXConfig.preset(name)
        model, step, images = train_step_fn(cfg, args.batch_size)
        t_cross = timeit(step, args.steps)
        flops = count_flops(step)
        _, step_concat, _ = train_step_fn(
            FusionXConfig.preset(name, fusion="concat"), args.batch_size
        )
        t_concat = timeit(step_concat, args.steps)
        flop_ratio = flops / count_flops(step_concat)
        speedup = encoder_speedup(model, images, args.steps)
        achieved = flops / t_cross / 1e9
        dense = dense_blocks_gflops(cfg, args.batch_size, args.steps)
        print(
            f"{name:<6} {args.batch_size / t_cross:>13.1f} {args.batch_size / t_concat:>14.1f} "
            f"{t_cross / t_concat:>6.2f}x ({flop_ratio:.2f}x) {speedup:>16.2f}x {achieved:>13.1f} "
            f"{100 * achieved / peak:>8.0f}% {100 * dense / peak:>14.0f}%"
        )
    print("\ntargets: cross/concat <= 1.3x; visible-only >= 2.5x; lite >= 50% of matmul")


if __name__ == "__main__":
    main()
