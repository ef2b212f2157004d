"""Low-label evaluation: linear probe and fine-tuning at label fractions, scored by mAP.

    rows = evaluate_encoder(model, train, test, method="fusionx", strategy="consistent")
    write_results(rows, "runs/eval/results.csv")

``train`` and ``test`` are in-memory datasets (:func:`fusionx_lite.data.materialize`). For
each seed and fraction the labelled subset comes from the data package's splits
(:func:`fusionx_lite.data.make_splits`: nested, the 1% subset lies inside the 5% one, and
small subsets see every class they have room for). Protocols:

- ``"linear"``: the encoder is frozen; pooled features of every image are computed once,
  standardised with the statistics of the whole (unlabelled) training pool, and a linear
  layer is fitted on the labelled subset.
- ``"finetune"``: a linear head, first fitted as a probe, and the encoder are then
  trained together on the labelled subset for a fixed number of steps (the same budget
  for every method and fraction; by default at the 1% and 10% fractions only).

Both are scored on the whole test set with torchmetrics' ``MultilabelAveragePrecision``:
micro mAP pools every (image, class) pair; macro mAP averages the per-class AP over the
classes present in the test set (a class without positives has no defined AP).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.functional.classification import multilabel_average_precision
from tqdm.auto import tqdm

from fusionx_lite.config import check_choice
from fusionx_lite.data import (
    ArrayDataset,
    build_dataset,
    load_splits,
    make_splits,
    materialize,
    save_splits,
)
from fusionx_lite.model import FusionXMAE
from fusionx_lite.schedule import lr_at

PROTOCOLS = ("linear", "finetune")
Splits = dict[int, dict[float, list[int]]]  # seed -> fraction -> indices into the train set
COLUMNS = ("method", "strategy", "fraction", "seed", "protocol", "metric", "value")


@dataclass(frozen=True)
class EvalConfig:
    """Settings shared by every method, so the comparison is like for like."""

    fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 1.0)  # labelled share of train
    seeds: tuple[int, ...] = (0, 1, 2)  # one labelled subset and one head init per seed
    protocols: tuple[str, ...] = PROTOCOLS  # "linear" and/or "finetune"
    # fine-tuning costs a fixed number of steps per run, so by default it runs at the few-label
    # fractions the comparison is about (None: every fraction)
    finetune_fractions: tuple[float, ...] | None = (0.01, 0.1)
    probe_steps: int = 300  # full-batch Adam steps of the linear probe
    probe_lr: float = 1e-2  # Adam learning rate of the linear probe
    probe_weight_decay: float = 1e-4  # L2 penalty on the probe's weights
    finetune_steps: int = 25  # optimiser steps per fine-tuning run, whatever the fraction
    finetune_batch: int = 16  # samples per fine-tuning step
    finetune_lr: float = 5e-4  # peak AdamW rate (10% warmup, then cosine)
    finetune_weight_decay: float = 0.05  # AdamW weight decay when fine-tuning
    batch_size: int = 128  # images per forward pass when computing features

    def __post_init__(self) -> None:
        object.__setattr__(self, "fractions", check_fractions(self.fractions))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "protocols", tuple(self.protocols))
        for p in self.protocols:
            check_choice("protocol", p, PROTOCOLS)
        if self.finetune_fractions is not None:
            object.__setattr__(
                self,
                "finetune_fractions",
                check_fractions(self.finetune_fractions, "finetune_fractions"),
            )
        if "finetune" in self.protocols and self.finetune_fractions is not None:
            if not set(self.finetune_fractions) & set(self.fractions):
                raise ValueError(
                    f"finetune_fractions {self.finetune_fractions} share no value with "
                    f"fractions {self.fractions}; fine-tuning would never run"
                )
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed, got ()")
        for name in ("probe_steps", "finetune_steps", "finetune_batch", "batch_size"):
            value, least = getattr(self, name), 0 if name == "finetune_steps" else 1
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")

    def finetunes(self, fraction: float) -> bool:
        return "finetune" in self.protocols and (
            self.finetune_fractions is None or fraction in self.finetune_fractions
        )


def check_fractions(fractions: Sequence[float], name: str = "fractions") -> tuple[float, ...]:
    """Return ``fractions`` as a tuple of floats, each in (0, 1], or raise ``ValueError``."""
    fractions = tuple(float(f) for f in fractions)
    bad = [f for f in fractions if not 0.0 < f <= 1.0]
    if bad or not fractions:
        raise ValueError(
            f"{name} must be non-empty with every value in (0, 1] (0.01 = 1% of "
            f"the labels), got {fractions}"
        )
    return fractions


def mean_average_precision(scores: Tensor, labels: Tensor) -> dict[str, float]:
    """Micro and macro mAP of multi-label scores over a whole evaluation set.

    Args:
        scores: ``[N, K]`` probabilities (or logits) per image and class.
        labels: ``[N, K]`` multi-hot targets.

    Returns:
        ``{"map_micro": ..., "map_macro": ...}``; macro averages over classes that have at
        least one positive in ``labels``.
    """
    labels = labels.long()
    k = labels.shape[1]
    with warnings.catch_warnings():  # absent classes are left out of the macro mean below
        warnings.filterwarnings("ignore", message="No positive samples found")
        micro = multilabel_average_precision(scores, labels, num_labels=k, average="micro")
        per_class = multilabel_average_precision(scores, labels, num_labels=k, average=None)
    present = labels.sum(dim=0) > 0  # [K]
    return {"map_micro": micro.item(), "map_macro": per_class[present].mean().item()}


def batch_of(data: ArrayDataset, index: slice | Tensor) -> dict[str, Tensor]:
    """Images and labels of the samples at ``index``, as float32 ``[n, ...]`` tensors."""
    return {k: data.arrays[k][index].float() for k in ("sar", "optical", "label")}


def subset(data: ArrayDataset, index: Sequence[int]) -> ArrayDataset:
    """The samples at ``index`` as a new in-memory dataset."""
    idx = torch.as_tensor(index, dtype=torch.long)
    return ArrayDataset(
        {k: v[idx] for k, v in data.arrays.items()}, data.class_names, data.optical_bands
    )


def _inputs(samples: dict[str, Tensor], modalities: Sequence[str], device) -> dict:
    return {m: samples[m].to(device) if m in modalities else None for m in ("sar", "optical")}


@torch.no_grad()
def extract_features(
    model: FusionXMAE,
    data: ArrayDataset,
    modalities: Sequence[str],
    batch_size: int = 128,
    device: str | torch.device = "cpu",
) -> Tensor:
    """Pooled encoder features ``[N, D]`` of every image, from the given input modalities."""
    model.eval().to(device)
    feats = []
    for start in range(0, len(data), batch_size):
        batch = batch_of(data, slice(start, start + batch_size))
        feats.append(model.encode(**_inputs(batch, modalities, device)).float().cpu())
    return torch.cat(feats)  # [N, D]


def fit_linear_probe(
    x: Tensor,
    y: Tensor,
    *,
    seed: int,
    steps: int = 300,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
) -> nn.Linear:
    """Logistic regression (one output per class) on standardised features.

    Args:
        x: ``[N_lab, D]`` standardised features of the labelled subset.
        y: ``[N_lab, K]`` their multi-hot labels.
        seed: seeds the head's initialisation.
        steps, lr, weight_decay: full-batch Adam with an L2 penalty on the weights.

    Returns:
        The fitted ``nn.Linear(D, K)`` (outputs are logits).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = nn.Linear(x.shape[1], y.shape[1])
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(head(x), y)
        (loss + weight_decay * head.weight.pow(2).sum()).backward()
        opt.step()
    return head.requires_grad_(False)


def linear_probe(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    *,
    seed: int,
    mean: Tensor,
    std: Tensor,
    **fit_kwargs,
) -> Tensor:
    """Standardise with ``mean`` and ``std`` (``[D]``), fit a probe, score ``test_x``.

    Returns:
        ``[N_test, K]`` probabilities (``fit_kwargs`` go to :func:`fit_linear_probe`).
    """
    head = fit_linear_probe((train_x - mean) / std, train_y, seed=seed, **fit_kwargs)
    return torch.sigmoid(head((test_x - mean) / std))  # [N_test, K]


class Classifier(nn.Module):
    """A :class:`FusionXMAE` encoder with a linear head on its pooled features."""

    def __init__(self, model: FusionXMAE, num_classes: int, modalities: Sequence[str]):
        super().__init__()
        self.model, self.modalities = model, tuple(modalities)
        self.head = nn.Linear(model.cfg.embed_dim, num_classes)

    def forward(self, batch: dict[str, Tensor], device) -> Tensor:
        return self.head(self.model.encode(**_inputs(batch, self.modalities, device)))  # [N, K]


def probe_head(
    model: FusionXMAE,
    data: ArrayDataset,
    modalities: Sequence[str],
    seed: int,
    cfg: EvalConfig,
    device: str | torch.device = "cpu",
) -> nn.Linear:
    """A linear probe on ``data``'s raw pooled features (standardisation folded in)."""
    x = extract_features(model, data, modalities, cfg.batch_size, device)  # [n, D]
    mean, std = x.mean(dim=0), x.std(dim=0).nan_to_num(1.0).clamp_min(1e-6)
    head = fit_linear_probe(
        (x - mean) / std,
        data.arrays["label"].float(),
        seed=seed,
        steps=cfg.probe_steps,
        lr=cfg.probe_lr,
        weight_decay=cfg.probe_weight_decay,
    )
    raw = nn.Linear(x.shape[1], head.out_features)
    with torch.no_grad():  # W ((x - m) / s) + b  =  (W / s) x + (b - W (m / s))
        raw.weight.copy_(head.weight / std)
        raw.bias.copy_(head.bias - head.weight @ (mean / std))
    return raw


def finetune(
    model: FusionXMAE,
    train: ArrayDataset,
    test: ArrayDataset,
    *,
    seed: int,
    cfg: EvalConfig,
    device: str | torch.device = "cpu",
    modalities: Sequence[str] | None = None,
) -> Tensor:
    """Fine-tune a copy of ``model``'s encoder with a linear head; return test probabilities.

    The head starts as a linear probe fitted on the frozen features of ``train`` (LP-FT,
    Kumar et al. 2022: a fresh random head would spend the short budget undoing its own
    noise and would disturb the pretrained features). Then encoder and head are trained
    together for ``cfg.finetune_steps`` AdamW steps of ``cfg.finetune_batch`` samples drawn
    from ``train`` (reshuffled each pass), whatever its size.

    Returns:
        ``[N_test, K]`` probabilities.
    """
    modalities = tuple(modalities or model.cfg.modalities)
    clf = Classifier(copy.deepcopy(model), train.num_classes, modalities)
    clf.head = probe_head(clf.model, train, modalities, seed, cfg, device)
    clf.to(device).train()
    params = [*clf.model.encoder.parameters(), *clf.head.parameters()]
    opt = torch.optim.AdamW(params, lr=0.0, weight_decay=cfg.finetune_weight_decay)
    gen = torch.Generator().manual_seed(seed)
    order = torch.empty(0, dtype=torch.long)
    warmup = max(1, cfg.finetune_steps // 10)
    for step in range(cfg.finetune_steps):
        while len(order) < cfg.finetune_batch:
            order = torch.cat([order, torch.randperm(len(train), generator=gen)])
        idx, order = order[: cfg.finetune_batch], order[cfg.finetune_batch :]
        batch = batch_of(train, idx)
        for group in opt.param_groups:
            group["lr"] = lr_at(
                step, peak_lr=cfg.finetune_lr, warmup_steps=warmup, total_steps=cfg.finetune_steps
            )
        logits = clf(batch, device)  # [n, K]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, batch["label"].to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
    clf.eval()
    with torch.no_grad():
        logits = [
            clf(batch_of(test, slice(s, s + cfg.batch_size)), device)
            for s in range(0, len(test), cfg.batch_size)
        ]
    return torch.sigmoid(torch.cat(logits).float().cpu())  # [N_test, K]


def evaluate_encoder(
    model: FusionXMAE,
    train: ArrayDataset,
    test: ArrayDataset,
    *,
    method: str,
    strategy: str,
    cfg: EvalConfig | None = None,
    protocols: Sequence[str] | None = None,
    modalities: Sequence[str] | None = None,
    protocol_suffix: str = "",
    extra_tests: dict[str, ArrayDataset] | None = None,
    splits: Splits | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> list[dict]:
    """Score one encoder at every fraction, seed and protocol.

    Args:
        model: the (pretrained or random) model whose encoder is evaluated.
        train: labelled pool (in memory, see :func:`fusionx_lite.data.materialize`).
        test: evaluation set (all of it is scored).
        method, strategy: names written to the result rows.
        cfg: evaluation settings (defaults: :class:`EvalConfig`).
        protocols: a subset of ``cfg.protocols`` for this encoder (None: all of them).
        modalities: inputs given to the encoder (None: every modality the model uses);
            e.g. ``("sar",)`` evaluates a fusion model when the optical image is missing.
        protocol_suffix: appended to the protocol name in the rows, e.g. ``"-sar-only"``.
        extra_tests: more evaluation sets scored by the same linear probes, by protocol
            suffix, e.g. ``{"-cloudy": cloudy_test}`` gives rows ``"linear-cloudy"``.
        splits: ``splits[seed][fraction] -> indices`` into ``train`` (from
            :func:`fusionx_lite.data.make_splits` or ``load_splits``); None: made here
            for ``cfg.fractions`` and ``cfg.seeds``.
        device: where features and fine-tuning are computed.
        progress: show a progress bar.

    Returns:
        Tidy rows ``{method, strategy, fraction, seed, protocol, metric, value}``.

    Raises:
        ValueError: for an unknown protocol, or splits lacking a fraction or seed of ``cfg``.
    """
    cfg = cfg or EvalConfig()
    protocols = tuple(cfg.protocols if protocols is None else protocols)
    for p in protocols:
        check_choice("protocol", p, PROTOCOLS)
    modalities = tuple(modalities or model.cfg.modalities)
    labels = train.arrays["label"].float()  # [N, K]
    splits = make_splits(labels, cfg.fractions, cfg.seeds) if splits is None else splits
    missing = [(s, f) for s in cfg.seeds for f in cfg.fractions if f not in splits.get(s, {})]
    if missing:
        raise ValueError(
            f"splits lack (seed, fraction) pairs {missing}; make them with "
            "fusionx_lite.data.make_splits(labels, fractions, seeds)"
        )
    tests = {protocol_suffix: test}
    tests.update({protocol_suffix + k: v for k, v in (extra_tests or {}).items()})
    if "linear" in protocols:  # features computed once, standardised by the whole pool
        train_x = extract_features(model, train, modalities, cfg.batch_size, device)  # [N, D]
        mean, std = train_x.mean(dim=0), train_x.std(dim=0).clamp_min(1e-6)
        tests_x = {
            k: (extract_features(model, v, modalities, cfg.batch_size, device) - mean) / std
            for k, v in tests.items()
        }
    rows: list[dict] = []
    jobs = [(f, s) for f in cfg.fractions for s in cfg.seeds]
    for fraction, seed in tqdm(jobs, disable=not progress, desc=f"evaluate {method}"):
        idx = torch.as_tensor(splits[seed][fraction], dtype=torch.long)  # [N_lab]
        scored = []  # (protocol, probabilities [N_test, K], test set)
        if "linear" in protocols:
            head = fit_linear_probe(
                (train_x[idx] - mean) / std,
                labels[idx],
                seed=seed,
                steps=cfg.probe_steps,
                lr=cfg.probe_lr,
                weight_decay=cfg.probe_weight_decay,
            )
            scored += [("linear" + k, torch.sigmoid(head(x)), tests[k]) for k, x in tests_x.items()]
        if "finetune" in protocols and cfg.finetunes(fraction):
            probs = finetune(
                model,
                subset(train, idx),
                test,
                seed=seed,
                cfg=cfg,
                device=device,
                modalities=modalities,
            )
            scored.append(("finetune" + protocol_suffix, probs, test))
        for protocol, probs, data in scored:
            scores = mean_average_precision(probs, data.arrays["label"].float())
            rows += [
                dict(
                    method=method,
                    strategy=strategy,
                    fraction=fraction,
                    seed=seed,
                    protocol=protocol,
                    metric=m,
                    value=v,
                )
                for m, v in scores.items()
            ]
    return rows


def write_results(rows: list[dict], path: str | os.PathLike) -> Path:
    """Write tidy result rows to a CSV with columns :data:`COLUMNS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: r[k] for k in COLUMNS} for r in rows)
    return path


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    *,
    data: str = "synthetic",
    cfg: EvalConfig | None = None,
    train_length: int = 2000,
    test_length: int = 1000,
    data_seed: int = 0,
    splits_file: str | os.PathLike | None = None,
    modalities: Sequence[str] | None = None,
    method: str = "pretrained",
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> Path:
    """Evaluate a saved model on ``data``; write results.csv, splits.json and curves.

    Args:
        checkpoint: ``checkpoint.pt`` or the run folder holding it.
        out: folder for ``results.csv``, ``splits.json`` and ``curves_<protocol>.png``.
        data: source for :func:`fusionx_lite.data.build_dataset` ("train" split as the
            labelled pool, "test" split as the evaluation set).
        cfg: protocols, fractions, seeds and budgets.
        train_length, test_length: sizes of the two sets (None: the source's default).
        data_seed: dataset seed.
        splits_file: low-label splits saved by :func:`fusionx_lite.data.save_splits`; its
            seeds and fractions replace those of ``cfg`` (None: made from the labels).
        modalities: encoder inputs (None: all the model uses; ``("sar",)``: SAR only).
        method: name written to the rows.
        overwrite: replace an existing ``results.csv`` in ``out``.
        device: "auto", "cpu", "cuda" or "mps".
        progress: show progress bars.

    Returns:
        Path of ``results.csv``.

    Raises:
        FileExistsError: if ``out`` already holds results and ``overwrite`` is False.
    """
    from fusionx_lite.curves import plot_learning_curves
    from fusionx_lite.train import load_pretrained, pick_device

    out = Path(out)
    if (out / "results.csv").exists() and not overwrite:
        raise FileExistsError(
            f"{out} already holds results.csv; pass overwrite=True "
            "(--overwrite) to replace it or choose another folder"
        )
    cfg = cfg or EvalConfig()
    splits = None
    if splits_file is not None:
        splits = load_splits(splits_file)
        seeds = tuple(splits)
        cfg = dataclasses.replace(cfg, seeds=seeds, fractions=tuple(splits[seeds[0]]))
    dev = pick_device(device)
    model = load_pretrained(checkpoint)
    sets = {
        split: materialize(
            build_dataset(data, split=split, img_size=model.cfg.img_size, length=n, seed=data_seed)
        )
        for split, n in (("train", train_length), ("test", test_length))
    }
    if splits is None:
        splits = make_splits(sets["train"].arrays["label"], cfg.fractions, cfg.seeds)
    strategy = model.cfg.strategy if len(model.cfg.modalities) == 2 else "n/a"
    suffix = "-sar-only" if modalities is not None and tuple(modalities) == ("sar",) else ""
    rows = evaluate_encoder(
        model,
        sets["train"],
        sets["test"],
        method=method,
        strategy=strategy,
        cfg=cfg,
        modalities=modalities,
        protocol_suffix=suffix,
        splits=splits,
        device=dev,
        progress=progress,
    )
    path = write_results(rows, out / "results.csv")
    save_splits(splits, out / "splits.json")
    for protocol in dict.fromkeys(r["protocol"] for r in rows):
        plot_learning_curves(rows, out / f"curves_{protocol}.png", protocol=protocol)
    return path
