"""The whole comparison: FusionX against its baselines, same budget, same evaluation.

    from fusionx_lite.experiment import ExperimentConfig, run_experiment
    result = run_experiment(ExperimentConfig.quick(), out="runs/quick")   # ~1-2 min on CPU
    print(result.table)

Methods (every pretrained one gets the same data, epochs, batch, learning rate and
mask ratio; every one is scored by the same probes on the same labelled subsets):

| method | what it is |
|---|---|
| fusionx-independent | cross-attention fusion, SAR and optical masked at different positions |
| fusionx-consistent | cross-attention fusion, both masked at the same positions |
| joint | one encoder over the tokens of both modalities, no cross-attention (MultiMAE-like) |
| concat | SAR and optical channels stacked into one image, one token per patch (SatMAE-like) |
| optical-only | MAE on Sentinel-2 alone |
| sar-only | MAE on Sentinel-1 alone |
| random-init | the FusionX encoder with random weights (linear probe only) |
| supervised | the FusionX encoder trained from scratch on the labelled subset (fine-tune only) |

Protocols: ``linear`` and ``finetune`` (see :mod:`fusionx_lite.evaluate`), plus two
missing-modality checks with a linear probe: ``linear-sar-only`` (a two-modality encoder
given only the radar image, for training and testing) and ``linear-cloudy`` (probe
trained on ordinary images, tested on the same test scenes under heavy cloud; synthetic
data only, since only the synthetic world can re-draw clouds over the same scene).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fusionx_lite.config import PRESETS, FusionXConfig, check_choice
from fusionx_lite.curves import plot_learning_curves
from fusionx_lite.data import ArrayDataset, build_dataset, make_splits, materialize, save_splits
from fusionx_lite.evaluate import EvalConfig, Splits, evaluate_encoder, write_results
from fusionx_lite.model import FusionXMAE
from fusionx_lite.train import TrainConfig, occupied_files, pick_device, pretrain

# name -> (config changes, strategy written to the table); None: no pretraining
METHODS: dict[str, tuple[dict | None, str]] = {
    "fusionx-independent": ({"fusion": "cross", "strategy": "independent"}, "independent"),
    "fusionx-consistent": ({"fusion": "cross", "strategy": "consistent"}, "consistent"),
    "joint": ({"fusion": "joint", "strategy": "independent"}, "independent"),
    "concat": ({"fusion": "concat", "strategy": "consistent"}, "consistent"),
    "optical-only": ({"modalities": ("optical",)}, "n/a"),
    "sar-only": ({"modalities": ("sar",)}, "n/a"),
    "random-init": (None, "n/a"),
    "supervised": (None, "n/a"),
}
OUT_FILES = ("experiment.json", "results.csv", "results.md", "splits.json")


@dataclass(frozen=True)
class ExperimentConfig:
    """Sizes and budgets of the comparison (one budget for every method)."""

    preset: str = "lite"  # model size for every method: "tiny", "lite" or "base"
    data: str = "synthetic"  # a source for fusionx_lite.data.build_dataset
    methods: tuple[str, ...] = tuple(METHODS)  # which rows of the table to run
    train_size: int = 2000  # pretraining pool = labelled pool (fractions are taken of it)
    test_size: int = 1000  # every test image is scored
    cloudy_cover: float = 0.9  # mean cloud cover of the cloudy test set (synthetic only)
    data_seed: int = 0  # seed of the synthetic world
    epochs: int = 5  # pretraining epochs of every MAE
    batch_size: int = 64  # pretraining batch
    lr: float = 1.5e-3  # peak pretraining rate of every MAE (warmup 1 epoch, cosine)
    seed: int = 0  # pretraining seed
    eval: EvalConfig = field(default_factory=EvalConfig)  # protocols, fractions, seeds

    def __post_init__(self) -> None:
        check_choice("preset", self.preset, PRESETS)
        object.__setattr__(self, "methods", tuple(self.methods))
        for m in self.methods:
            check_choice("method", m, tuple(METHODS))

    @classmethod
    def quick(cls, **overrides) -> ExperimentConfig:
        """The CI version: tiny model, small data, 3 fractions, 2 seeds (about 1-2 min)."""
        ev = EvalConfig(
            fractions=(0.05, 0.25, 1.0),
            seeds=(0, 1),
            probe_steps=100,
            finetune_fractions=(0.05, 0.25),
            finetune_steps=10,
            finetune_batch=16,
        )
        base = dict(preset="tiny", train_size=256, test_size=256, epochs=2, batch_size=32, eval=ev)
        return cls(**{**base, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class ExperimentResult:
    rows: list[dict]  # tidy rows: method, strategy, fraction, seed, protocol, metric, value
    csv: Path  # results.csv
    table: str  # markdown tables of micro mAP (mean +- std over seeds)
    figures: list[Path]  # learning curves, one per protocol
    seconds: float  # wall time of the whole comparison


def method_config(base: FusionXConfig, method: str) -> FusionXConfig:
    """The model configuration of ``method`` built on ``base`` (same widths and depths)."""
    check_choice("method", method, tuple(METHODS))
    changes = METHODS[method][0] or {"fusion": "cross", "strategy": "consistent"}
    return dataclasses.replace(base, **changes)


def load_data(exp: ExperimentConfig, img_size: int) -> dict[str, ArrayDataset]:
    """Train, test (and cloudy test, for synthetic data) sets held in memory."""

    def load(split: str, length: int, **kw) -> ArrayDataset:
        return materialize(
            build_dataset(
                exp.data, split=split, img_size=img_size, length=length, seed=exp.data_seed, **kw
            )
        )

    sets = {"train": load("train", exp.train_size), "test": load("test", exp.test_size)}
    if exp.data == "synthetic":
        sets["cloudy"] = load("test", exp.test_size, cloud_cover=exp.cloudy_cover)
    return sets


def prepare_out(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a folder holding another comparison unless ``resume`` or ``overwrite``."""
    occupied_files(
        out, OUT_FILES, "an experiment", "reuse its finished pretraining runs", resume, overwrite
    )
    out.mkdir(parents=True, exist_ok=True)


def run_experiment(
    exp: ExperimentConfig | None = None,
    out: str | os.PathLike = "runs/experiment",
    *,
    resume: bool = False,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> ExperimentResult:
    """Pretrain every method under one budget, evaluate them alike, write table and curves.

    Args:
        exp: sizes and budgets (default: the lite comparison, under 30 min on 2 CPU cores).
        out: folder for results.csv, results.md, splits.json, curves_<protocol>.png,
            experiment.json (settings and timings) and the pretraining runs
            (``pretrain/<method>/``).
        resume: reuse the finished pretraining runs in ``out`` (a killed one continues).
        overwrite: redo everything in ``out``.
        device: "auto", "cpu", "cuda" or "mps".
        progress: show progress bars.

    Returns:
        An :class:`ExperimentResult`.

    Raises:
        FileExistsError: if ``out`` holds an experiment and neither flag is set.
    """
    exp = exp or ExperimentConfig()
    out = Path(out)
    prepare_out(out, resume, overwrite)
    start, load_start = time.perf_counter(), _load()
    dev = pick_device(device)
    base = FusionXConfig.preset(exp.preset)
    sets = load_data(exp, base.img_size)
    base = dataclasses.replace(base, optical_channels=len(sets["train"].optical_bands))
    splits = make_splits(sets["train"].arrays["label"], exp.eval.fractions, exp.eval.seeds)
    save_splits(splits, out / "splits.json")
    train = TrainConfig(
        epochs=exp.epochs, batch_size=exp.batch_size, lr=exp.lr, seed=exp.seed, device=device
    )
    rows: list[dict] = []
    timings: dict[str, float] = {}
    for method in exp.methods:
        t0 = time.perf_counter()
        rows += run_method(
            method, base, sets, splits, exp, train, out, resume, overwrite, dev, progress
        )
        timings[method] = round(time.perf_counter() - t0, 1)
        write_results(rows, out / "results.csv")  # a kill loses at most one method
    seconds = time.perf_counter() - start
    table = results_table(rows)
    (out / "results.md").write_text(table)
    figures = []
    for protocol in dict.fromkeys(r["protocol"] for r in rows):
        figures.append(out / f"curves_{protocol}.png")
        plot_learning_curves(rows, figures[-1], protocol=protocol)
    (out / "experiment.json").write_text(
        json.dumps(
            {
                "experiment": exp.to_dict(),
                "device": str(dev),
                "seconds": round(seconds, 1),
                "seconds_per_method": timings,
                "torch_threads": torch.get_num_threads(),
                "cpu_cores": os.cpu_count(),
                "load_average_1min": {"start": load_start, "end": _load()},
            },
            indent=2,
        )
    )
    return ExperimentResult(rows, out / "results.csv", table, figures, seconds)


def _load() -> float | None:
    """1-minute load average (None where the OS has none): timings depend on it."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def run_method(
    method: str,
    base: FusionXConfig,
    sets: dict[str, ArrayDataset],
    splits: Splits,
    exp: ExperimentConfig,
    train: TrainConfig,
    out: Path,
    resume: bool,
    overwrite: bool,
    device: torch.device,
    progress: bool,
) -> list[dict]:
    """Pretrain (if the method does) and evaluate one method; returns its rows."""
    cfg = method_config(base, method)
    strategy = METHODS[method][1]
    if METHODS[method][0] is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(exp.seed)
            model = FusionXMAE(cfg)
        protocols = ("linear",) if method == "random-init" else ("finetune",)
        protocols = tuple(p for p in protocols if p in exp.eval.protocols)
    else:
        model = pretrain(
            cfg,
            sets["train"],
            out / "pretrain" / method,
            train=train,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
        ).model
        protocols = exp.eval.protocols
    common = dict(
        method=method,
        strategy=strategy,
        cfg=exp.eval,
        splits=splits,
        device=device,
        progress=progress,
    )
    cloudy = {"-cloudy": sets["cloudy"]} if "cloudy" in sets else {}
    rows = evaluate_encoder(
        model, sets["train"], sets["test"], protocols=protocols, extra_tests=cloudy, **common
    )
    if "sar" in cfg.modalities and "linear" in protocols and method != "random-init":
        rows += evaluate_encoder(
            model,
            sets["train"],
            sets["test"],
            protocols=("linear",),
            modalities=("sar",),
            protocol_suffix="-sar-only",
            **common,
        )
    return rows


def results_table(rows: list[dict], metric: str = "map_micro") -> str:
    """Markdown tables, one per protocol: methods by fraction, mean +- std over seeds."""
    parts = []
    for protocol in dict.fromkeys(r["protocol"] for r in rows):
        sel = [r for r in rows if r["protocol"] == protocol and r["metric"] == metric]
        fractions = sorted({float(r["fraction"]) for r in sel})
        lines = [
            f"**{protocol}** ({metric.replace('_', ' ')} x 100, mean +- std over seeds)",
            "",
            "| method | strategy | " + " | ".join(f"{f:.0%}" for f in fractions) + " |",
            "|---|---|" + "---|" * len(fractions),
        ]
        for method in dict.fromkeys(r["method"] for r in sel):
            cells = []
            for f in fractions:
                v = (
                    np.array(
                        [
                            float(r["value"])
                            for r in sel
                            if r["method"] == method and float(r["fraction"]) == f
                        ]
                    )
                    * 100
                )
                cells.append(f"{v.mean():.1f} +- {v.std():.1f}" if len(v) else "")
            strategy = next(r["strategy"] for r in sel if r["method"] == method)
            lines.append(f"| {method} | {strategy} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
