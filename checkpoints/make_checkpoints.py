"""Pretrain the small checkpoints that notebooks 3, 4 and 5 load, and the results of notebook 6.

    python checkpoints/make_checkpoints.py          # both strategies, ~30 min on 2 CPU cores
    python checkpoints/make_checkpoints.py --strategies consistent --epochs 2   # a quick check

For each masking strategy this pretrains the ``lite`` FusionX model (cross-attention
fusion, mask ratio 0.75) on the synthetic world with :func:`fusionx_lite.train.pretrain`,
then keeps only what a notebook needs: the configuration and the model weights in
float16 (about 3 MB instead of 17 MB with the optimiser state). The result loads with
:func:`fusionx_lite.train.load_pretrained`. The full runs (loss.csv, loss.png) stay in
``runs/checkpoints/<name>/``; the loss log is copied next to each checkpoint, and
``checkpoints/provenance.json`` records the settings, times and final losses.

    python checkpoints/make_checkpoints.py --experiment    # the lite comparison, ~30 min

runs the engine's whole comparison (:func:`fusionx_lite.experiment.run_experiment` with
the default lite :class:`~fusionx_lite.experiment.ExperimentConfig`, the same as
``python -m fusionx_lite experiment --preset lite``) and copies its ``results.csv``,
``results.md`` and ``experiment.json`` to ``checkpoints/experiment-lite/``, which
notebook 6 loads.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

from fusionx_lite import FusionXConfig
from fusionx_lite.course import CHECKPOINTS, slim_checkpoint
from fusionx_lite.data import build_dataset, materialize
from fusionx_lite.train import load_pretrained, pretrain

HERE = Path(__file__).resolve().parent


@torch.no_grad()
def hidden_mse(path: Path, val, strategy: str, seed: int = 0) -> dict[str, float]:
    """MSE on hidden patches of a slim checkpoint on validation samples."""
    model = load_pretrained(path)
    sar = torch.stack([val[i]["sar"] for i in range(len(val))])
    optical = torch.stack([val[i]["optical"] for i in range(len(val))])
    out = model(sar, optical, strategy=strategy, generator=torch.Generator().manual_seed(seed))
    return {"sar": round(out.loss_sar.item(), 4), "optical": round(out.loss_optical.item(), 4)}


def experiment(args: argparse.Namespace) -> int:
    """Run the lite comparison and keep its tables for notebook 6."""
    from fusionx_lite.experiment import ExperimentConfig, run_experiment

    run_dir = args.runs / "experiment"
    result = run_experiment(
        ExperimentConfig(), run_dir, resume=args.resume, overwrite=not args.resume, device="cpu"
    )
    target = args.out / "experiment-lite"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("results.csv", "results.md", "experiment.json"):
        shutil.copy(run_dir / name, target / name)
    print(result.table)
    print(f"{result.seconds / 60:.0f} min; wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strategies", nargs="+", default=list(CHECKPOINTS), choices=list(CHECKPOINTS))
    p.add_argument("--length", type=int, default=4096, help="synthetic training samples")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1.5e-3, help="peak learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=HERE, help="folder for the slim checkpoints")
    p.add_argument("--runs", type=Path, default=Path("runs/checkpoints"))
    p.add_argument("--threads", type=int, help="torch CPU threads (1 is fastest on a busy machine)")
    p.add_argument("--resume", action="store_true", help="continue killed runs in --runs")
    p.add_argument("--experiment", action="store_true", help="run the lite comparison instead")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.experiment:
        return experiment(args)

    cfg0 = FusionXConfig.lite()
    data = build_dataset(
        "synthetic", split="train", img_size=cfg0.img_size, length=args.length, seed=args.seed
    )
    train_set = materialize(data)  # render once, reuse every epoch
    val = build_dataset("synthetic", split="val", img_size=cfg0.img_size, length=256, seed=0)
    record = {
        "command": "python checkpoints/make_checkpoints.py " + " ".join(argv or sys.argv[1:]),
        "data": {"source": "synthetic", "split": "train", "length": args.length, "seed": args.seed},
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "checkpoints": {},
    }
    for strategy in args.strategies:
        cfg = FusionXConfig.lite(strategy=strategy)
        run_dir = args.runs / f"lite-{strategy}"
        start = time.perf_counter()
        result = pretrain(
            cfg,
            train_set,
            run_dir,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            device="cpu",
            overwrite=not args.resume,
            resume=args.resume,
        )
        path = slim_checkpoint(run_dir / "checkpoint.pt", args.out / CHECKPOINTS[strategy])
        shutil.copy(run_dir / "loss.csv", path.with_suffix(".loss.csv"))
        last = result.losses[-len(result.losses) // args.epochs :]
        record["checkpoints"][path.name] = {
            "strategy": strategy,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "steps": result.steps,
            "seconds": round(time.perf_counter() - start),
            "last_epoch_train_loss": round(sum(r["loss"] for r in last) / len(last), 4),
            "val_hidden_mse": {s: hidden_mse(path, val, s) for s in CHECKPOINTS},
            "megabytes": round(path.stat().st_size / 2**20, 2),
        }
        print(json.dumps(record["checkpoints"][path.name], indent=2), flush=True)
    prov = args.out / "provenance.json"
    old = json.loads(prov.read_text()) if prov.exists() else {}
    record["checkpoints"] = {**old.get("checkpoints", {}), **record["checkpoints"]}
    prov.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {prov}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
