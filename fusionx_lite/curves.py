"""Training and evaluation curves: the loss of a run, and mAP against the label fraction.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), returned for a
notebook to show, and saved when a path is given.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

METRIC_LABELS = {"map_micro": "micro mAP", "map_macro": "macro mAP"}


def read_rows(source: str | os.PathLike | list[dict]) -> list[dict]:
    """Rows of a CSV file (or a list of dicts, returned as is)."""
    if isinstance(source, list):
        return source
    with Path(source).open(newline="") as f:
        return list(csv.DictReader(f))


def plot_loss_curve(
    log: str | os.PathLike | list[dict],
    path: str | os.PathLike | None = None,
    title: str = "Pretraining loss",
) -> Figure:
    """Reconstruction loss per optimiser step, with a moving average.

    Args:
        log: ``loss.csv`` of a run (or its rows) with columns step, loss, loss_sar,
            loss_optical.
        path: where to save a PNG (None: not saved).
        title: figure title.

    Returns:
        The figure.
    """
    rows = read_rows(log)
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    steps = np.array([int(r["step"]) for r in rows])
    for key, label in (("loss", "total"), ("loss_sar", "SAR"), ("loss_optical", "optical")):
        values = np.array([float(r[key]) for r in rows]) if rows else np.array([])
        if key != "loss" and not np.any(values):
            continue  # a modality the model does not use
        (line,) = ax.plot(steps, values, alpha=0.3, lw=0.8)
        ax.plot(steps, _moving_average(values), color=line.get_color(), label=label)
    ax.set(xlabel="optimiser step", ylabel="MSE on hidden patches", title=title)
    ax.legend()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _moving_average(x: np.ndarray, window: int = 20) -> np.ndarray:
    """Trailing mean over up to ``window`` values (same length as ``x``)."""
    c = np.cumsum(np.insert(x, 0, 0.0))
    n = np.minimum(np.arange(1, len(x) + 1), window)
    return (c[1:] - c[np.arange(len(x)) + 1 - n]) / n


def summarise(rows: list[dict], metric: str, protocol: str) -> dict[str, dict[float, list]]:
    """``{curve label: {fraction: [value per seed]}}`` for one metric and protocol."""
    curves: dict[str, dict[float, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["metric"] == metric and r["protocol"] == protocol:
            curves[r["method"]][float(r["fraction"])].append(float(r["value"]))
    return curves


def plot_learning_curves(
    results: str | os.PathLike | list[dict],
    path: str | os.PathLike | None = None,
    metric: str = "map_micro",
    protocol: str = "linear",
    title: str | None = None,
) -> Figure:
    """mAP against the fraction of labels used: mean over seeds, band from min to max.

    Args:
        results: tidy results CSV (or its rows) with columns method, strategy, fraction,
            seed, protocol, metric, value.
        path: where to save a PNG (None: not saved).
        metric: ``"map_micro"`` or ``"map_macro"``.
        protocol: which evaluation protocol to draw, e.g. ``"linear"`` or ``"finetune"``.
        title: figure title (a default names the protocol).

    Returns:
        The figure.

    Raises:
        ValueError: if no row matches ``metric`` and ``protocol``.
    """
    curves = summarise(read_rows(results), metric, protocol)
    if not curves:
        raise ValueError(f"no results for metric={metric!r} and protocol={protocol!r}")
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for method, by_fraction in curves.items():
        fractions = sorted(by_fraction)
        values = [np.array(by_fraction[f]) for f in fractions]
        x = np.array(fractions) * 100
        (line,) = ax.plot(x, [v.mean() for v in values], marker="o", label=method)
        ax.fill_between(
            x,
            [v.min() for v in values],
            [v.max() for v in values],
            color=line.get_color(),
            alpha=0.15,
            lw=0,
        )
    ticks = sorted({f * 100 for by_fraction in curves.values() for f in by_fraction})
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{v:g}%" for v in ticks])
    ax.minorticks_off()
    ax.set(
        xlabel="labelled training samples (% of the training set, log scale)",
        ylabel=METRIC_LABELS.get(metric, metric),
        title=title
        or f"{METRIC_LABELS.get(metric, metric)}, {protocol} protocol "
        "(line: mean over seeds, band: min to max)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
