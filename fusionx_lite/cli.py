"""Command line: ``python -m fusionx_lite {pretrain,evaluate,experiment} ...``.

    python -m fusionx_lite pretrain --preset lite --data synthetic --strategy consistent \\
        --mask-ratio 0.75 --epochs 20 --out runs/lite-consistent
    python -m fusionx_lite evaluate --checkpoint runs/lite-consistent --out runs/lite-eval
    python -m fusionx_lite experiment --preset lite --out runs/experiment
    python -m fusionx_lite experiment --quick --out runs/quick          # tiny CI version

Bad settings end with ``error: ...`` naming the option and its allowed values (exit 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence

import torch

from fusionx_lite.config import FUSION_MODES, PRESETS, STRATEGIES, FusionXConfig

SOURCES = ("synthetic", "bundled", "bigearthnet", "bigearthnet-v2", "subset")


def fraction(text: str) -> float:
    """argparse type: a label fraction in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"fractions must be in (0, 1] (0.01 = 1%), got {value}")
    return value


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="synthetic", choices=SOURCES, help="dataset source")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the dataset")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))


def _add_out(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--out", required=required, help="output folder")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the run in --out")
    group.add_argument("--overwrite", action="store_true", help="replace the run in --out")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fusionx_lite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pretrain", help="pretrain a FusionX MAE (or a baseline)")
    p.add_argument("--preset", default="lite", choices=PRESETS)
    p.add_argument("--strategy", choices=STRATEGIES, help="masking strategy (preset default)")
    p.add_argument("--mask-ratio", type=float, help="fraction of patches hidden")
    p.add_argument("--fusion", choices=FUSION_MODES, help="fusion design (preset default)")
    p.add_argument("--modalities", nargs="+", choices=("sar", "optical"))
    _add_data(p)
    p.add_argument("--length", type=int, help="number of training samples (source default)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32, help="per device and micro-batch")
    p.add_argument("--accum-steps", type=int, default=1, help="gradient accumulation steps")
    p.add_argument("--lr", type=float, help="peak learning rate (default: base-lr x batch/256)")
    p.add_argument("--base-lr", type=float, default=1.5e-4)
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    p.add_argument("--ckpt-every", type=int, default=0, help="also checkpoint every N steps")
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--devices", type=int, default=1, help="processes (GPUs) per node")
    p.add_argument("--num-nodes", type=int, default=1)
    p.add_argument("--node-rank", type=int, default=0)
    p.add_argument("--master-addr", default="127.0.0.1")
    p.add_argument("--master-port", type=int, default=29500)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    _add_out(p)

    e = sub.add_parser("evaluate", help="linear probe / fine-tune a pretrained encoder")
    e.add_argument("--checkpoint", required=True, help="checkpoint.pt or its run folder")
    _add_data(e)
    e.add_argument(
        "--protocols", nargs="+", default=["linear", "finetune"], choices=("linear", "finetune")
    )
    e.add_argument("--fractions", nargs="+", type=fraction, default=[0.01, 0.05, 0.1, 0.25, 1.0])
    e.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    e.add_argument("--train-length", type=int, default=2000, help="labelled pool size")
    e.add_argument("--test-length", type=int, default=1000)
    e.add_argument(
        "--finetune-fractions",
        nargs="+",
        type=fraction,
        default=[0.01, 0.1],
        help="fractions at which to fine-tune too (each must be in --fractions)",
    )
    e.add_argument("--finetune-steps", type=int, default=25, help="steps per fine-tuning run")
    e.add_argument("--sar-only", action="store_true", help="give the encoder only SAR")
    e.add_argument("--method", default=None, help="name in the table (default: folder name)")
    e.add_argument("--no-progress", action="store_true")
    e.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    e.add_argument("--out", required=True, help="folder for results.csv and curves")
    e.add_argument("--overwrite", action="store_true", help="replace results in --out")

    x = sub.add_parser("experiment", help="the whole comparison against the baselines")
    x.add_argument(
        "--preset",
        default=None,
        choices=PRESETS,
        help="model size (default lite; tiny with --quick)",
    )
    x.add_argument("--quick", action="store_true", help="tiny CI version (about 1-2 min)")
    x.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    x.add_argument("--no-progress", action="store_true")
    x.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    _add_out(x, required=False)
    return parser


def cmd_pretrain(args: argparse.Namespace) -> None:
    from fusionx_lite import distributed as ddp
    from fusionx_lite.train import TrainConfig, pretrain

    ddp.check_devices(args.devices, args.num_nodes)
    if args.devices * args.num_nodes > 1 and not ddp.launched_by_torchrun():
        code = ddp.launch(
            args.argv,
            devices=args.devices,
            num_nodes=args.num_nodes,
            node_rank=args.node_rank,
            master_addr=args.master_addr,
            master_port=args.master_port,
        )
        raise SystemExit(code)
    changes = {
        k: v
        for k, v in (
            ("strategy", args.strategy),
            ("mask_ratio", args.mask_ratio),
            ("fusion", args.fusion),
            ("modalities", args.modalities),
        )
        if v is not None
    }
    cfg = FusionXConfig.preset(args.preset, **changes)
    from fusionx_lite.data import build_dataset

    ds = build_dataset(
        args.data, split="train", img_size=cfg.img_size, length=args.length, seed=args.data_seed
    )
    cfg = dataclasses.replace(cfg, optical_channels=len(ds.optical_bands))
    train = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        accum_steps=args.accum_steps,
        base_lr=args.base_lr,
        lr=args.lr,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        ckpt_every=args.ckpt_every,
        num_workers=args.num_workers,
    )
    result = pretrain(
        cfg,
        ds,
        args.out,
        train=train,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    if result.losses and os.environ.get("RANK", "0") == "0":  # one line, not one per process
        print(
            f"done: {result.steps} steps, last loss {result.losses[-1]['loss']:.4f}, "
            f"{result.samples_per_s:.1f} samples/s on {result.device}; saved in {args.out}"
        )


def cmd_evaluate(args: argparse.Namespace) -> None:
    from pathlib import Path

    from fusionx_lite.evaluate import EvalConfig, evaluate_checkpoint

    ev = EvalConfig(
        fractions=tuple(args.fractions),
        seeds=tuple(args.seeds),
        protocols=tuple(args.protocols),
        finetune_steps=args.finetune_steps,
        finetune_fractions=tuple(args.finetune_fractions),
    )
    path = evaluate_checkpoint(
        args.checkpoint,
        args.out,
        data=args.data,
        cfg=ev,
        train_length=args.train_length,
        test_length=args.test_length,
        data_seed=args.data_seed,
        modalities=("sar",) if args.sar_only else None,
        method=args.method or _run_name(Path(args.checkpoint)),
        overwrite=args.overwrite,
        device=args.device,
        progress=not args.no_progress,
    )
    print(f"results written to {path}")


def _run_name(path) -> str:
    """``runs/lite/checkpoint.pt`` and ``runs/lite`` are both the run "lite"."""
    return path.resolve().parent.name if path.suffix == ".pt" else path.resolve().name


def cmd_experiment(args: argparse.Namespace) -> None:
    from fusionx_lite.experiment import ExperimentConfig, run_experiment

    preset = {"preset": args.preset} if args.preset else {}
    exp = ExperimentConfig.quick(**preset) if args.quick else ExperimentConfig(**preset)
    out = args.out or ("runs/experiment-quick" if args.quick else "runs/experiment")
    result = run_experiment(
        exp,
        out,
        resume=args.resume,
        overwrite=args.overwrite,
        device=args.device,
        progress=not args.no_progress,
    )
    print(result.table)
    print(f"whole comparison: {result.seconds / 60:.1f} min; results in {out}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv`` and run the command; settings errors exit with status 2."""
    from fusionx_lite.checkpoint import ConfigMismatchError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # re-run as is under torchrun for several devices
    command = {"pretrain": cmd_pretrain, "evaluate": cmd_evaluate, "experiment": cmd_experiment}[
        args.command
    ]
    try:
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"threads must be a positive integer, got {args.threads}")
            torch.set_num_threads(args.threads)  # fewer than cores helps on a busy machine
        command(args)
    except (ValueError, FileExistsError, FileNotFoundError, ConfigMismatchError) as err:
        parser.exit(2, f"{parser.prog} {args.command}: error: {err}\n")
