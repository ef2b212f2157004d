"""Pretraining engine: one loop from a 2-minute CPU demo to several GPUs.

    from fusionx_lite import FusionXConfig
    from fusionx_lite.train import pretrain, load_pretrained

    result = pretrain(FusionXConfig.tiny(), data="synthetic", out="runs/demo", epochs=2)
    model = load_pretrained("runs/demo/checkpoint.pt")

Every random choice of a step (which samples, which patches are hidden, dropout) is drawn
from a generator seeded by ``(seed, epoch, step, micro-batch, rank)``, never from global
state, and the learning rate is a pure function of the step. So a checkpoint taken after
any step, plus the step number, is the whole state of the run: a killed run resumed with
``resume=True`` ends with bitwise the same weights (on CPU) as one that was never stopped.

An output folder holds ``run.json`` (settings), ``checkpoint.pt`` (latest state, written
atomically every epoch, every ``ckpt_every`` steps and at the end), ``loss.csv`` (one row
per optimiser step) and ``loss.png``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from fusionx_lite import distributed as ddp
from fusionx_lite.checkpoint import (
    capture_rng,
    check_same,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
    weights_hash,
)
from fusionx_lite.config import FusionXConfig, check_choice
from fusionx_lite.model import FusionXMAE
from fusionx_lite.schedule import lr_at, scaled_lr

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")
RUN_FILES = ("run.json", "checkpoint.pt", "loss.csv", "loss.png", "weights_sha256.json")
_NOTES: set[str] = set()  # notes already printed in this process
KILL_ENV = "FUSIONX_KILL_AFTER_STEP"  # tests only: SIGKILL this process after that step
# settings that may change between a run and its resumption without changing its result
RESUMABLE_CHANGES = ("device", "precision", "ckpt_every", "num_workers")


@dataclass(frozen=True)
class TrainConfig:
    """Pretraining settings (the model's own settings live in :class:`FusionXConfig`)."""

    epochs: int = 10  # passes over the training set
    batch_size: int = 32  # samples per device in one micro-batch
    accum_steps: int = 1  # micro-batches whose gradients add up to one optimiser step
    base_lr: float = 1.5e-4  # MAE's rate for a batch of 256, scaled by effective batch / 256
    lr: float | None = None  # explicit peak learning rate (overrides base_lr scaling)
    min_lr: float = 0.0  # floor of the cosine decay
    warmup_epochs: float = 1.0  # length of the linear warmup, in epochs
    weight_decay: float = 0.05  # AdamW weight decay (MAE's value)
    seed: int = 0  # seeds model init, data order, masks and dropout
    device: str = "auto"  # "auto" (CUDA, else CPU), "cpu", "cuda" or "mps"
    precision: str = "auto"  # "auto" (bf16 on a GPU that supports it, else fp32), "fp32", "bf16"
    ckpt_every: int = 0  # also checkpoint every this many optimiser steps (0: per epoch only)
    num_workers: int = 0  # DataLoader worker processes

    def __post_init__(self) -> None:
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        for name in ("epochs", "batch_size", "accum_steps"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("ckpt_every", "num_workers", "seed"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be > 0 (or None to scale base_lr), got {self.lr}")
        if self.base_lr <= 0 or self.min_lr < 0 or self.warmup_epochs < 0 or self.weight_decay < 0:
            raise ValueError(
                "base_lr must be > 0 and min_lr, warmup_epochs, weight_decay >= 0, "
                f"got {self.base_lr}, {self.min_lr}, {self.warmup_epochs}, "
                f"{self.weight_decay}"
            )

    def peak_lr(self, effective_batch: int) -> float:
        """``lr`` if given, else ``base_lr * effective_batch / 256``."""
        return self.lr if self.lr is not None else scaled_lr(self.base_lr, effective_batch)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class RunResult:
    """What :func:`pretrain` hands back."""

    model: FusionXMAE  # the trained model (unwrapped, in eval mode)
    out: Path | None  # the output folder, or None for an in-memory run
    steps: int  # optimiser steps done in total
    losses: list[dict] = field(default_factory=list)  # one row per step run in this call
    seconds: float = 0.0  # wall time of this call's training loop
    samples_per_s: float = 0.0  # training throughput over all devices
    device: str = "cpu"


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers (``numpy.random.SeedSequence``)."""
    return int(
        np.random.SeedSequence([int(p) for p in parts]).generate_state(2, np.uint64)[0]
        >> np.uint64(1)
    )


def epoch_batches(
    n: int, train: TrainConfig, epoch: int, start: int, steps: int, info: ddp.DistInfo
) -> list[list[int]]:
    """Sample indices of this rank's micro-batches for steps ``start .. steps - 1`` of ``epoch``.

    The epoch's order is a permutation of ``range(n)`` seeded by ``(train.seed, epoch)``;
    step ``s``, micro-batch ``m`` on rank ``r`` takes slice number
    ``(s * accum_steps + m) * world_size + r`` of it.
    """
    seed = derive_seed(train.seed, epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))  # [n]
    b, accum = train.batch_size, train.accum_steps
    batches = []
    for s in range(start, steps):
        for m in range(accum):
            k = (s * accum + m) * info.world_size + info.rank
            batches.append(order[k * b : (k + 1) * b].tolist())
    return batches


def pick_device(name: str = "auto", local_rank: int = 0, quiet: bool = False) -> torch.device:
    """The training device; ``"auto"`` takes CUDA when present and says so when it is not."""
    check_choice("device", name, DEVICES)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if not quiet and not _NOTES:
            _NOTES.add("cpu")  # once per process, not once per run
            print(
                "note: no CUDA GPU found, training on the CPU (fine for the tiny and lite "
                "presets; use a GPU, e.g. Colab, for base)",
                flush=True,
            )
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                "device='cuda' but torch.cuda.is_available() is False; use device='auto' or 'cpu'"
            )
        return torch.device("cuda", local_rank)
    return torch.device(name)


def note_busy_cpu() -> None:
    """Say once when other processes already keep every core busy: torch's worker threads
    then spin against them, and one thread can be several times faster."""
    load, cores, threads = os.getloadavg()[0], os.cpu_count() or 1, torch.get_num_threads()
    if threads > 1 and load >= cores and "busy" not in _NOTES:
        _NOTES.add("busy")
        print(
            f"note: the CPU is busy (load {load:.1f} on {cores} cores); if training is slow, "
            "try torch.set_num_threads(1) (--threads 1 on the command line)",
            flush=True,
        )


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """``torch.bfloat16`` when mixed precision applies, else None (full fp32)."""
    check_choice("precision", precision, PRECISIONS)
    bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "bf16" and not bf16_ok:
        raise ValueError(f"precision='bf16' needs a GPU with bf16 support, device is {device}")
    return torch.bfloat16 if precision == "bf16" or (precision == "auto" and bf16_ok) else None


def resolve_data(
    data: str | Dataset, cfg: FusionXConfig, length: int | None, data_seed: int
) -> tuple[Dataset, dict]:
    """A training dataset and a plain description of it (stored with the run)."""
    if isinstance(data, str):
        from fusionx_lite.data import build_dataset

        ds = build_dataset(
            data, split="train", img_size=cfg.img_size, length=length, seed=data_seed
        )
        desc = {"source": data, "length": len(ds), "seed": data_seed, "img_size": cfg.img_size}
    else:
        ds, desc = data, {"source": type(data).__name__, "length": len(data)}
    bands = getattr(ds, "optical_bands", None)
    if bands is not None and "optical" in cfg.modalities and len(bands) != cfg.optical_channels:
        raise ValueError(
            f"the dataset has {len(bands)} optical bands but cfg.optical_channels="
            f"{cfg.optical_channels}; use dataclasses.replace(cfg, "
            f"optical_channels={len(bands)})"
        )
    return ds, desc


def occupied_files(
    out: Path, files: Sequence[str], holds: str, resume_does: str, resume: bool, overwrite: bool
) -> list[str]:
    """The ``files`` already in ``out``; refuse to touch them unless asked.

    Raises:
        ValueError: if both ``resume`` and ``overwrite`` are set.
        FileExistsError: if some exist and neither is set (``holds`` names what they are,
            ``resume_does`` what ``resume`` would do with them).
    """
    if resume and overwrite:
        raise ValueError(
            f"choose one of resume=True ({resume_does}) and overwrite=True (replace it), not both"
        )
    existing = [f for f in files if (out / f).exists()]
    if existing and not (resume or overwrite):
        raise FileExistsError(
            f"{out} already holds {holds} ({', '.join(existing)}); pass resume=True "
            f"(--resume) to {resume_does}, overwrite=True (--overwrite) to replace it, "
            "or choose another folder"
        )
    return existing


def prepare_out(out: Path, run: dict, resume: bool, overwrite: bool) -> dict | None:
    """Check the output folder; return the checkpoint to resume from, if any.

    Raises:
        ValueError: if both ``resume`` and ``overwrite`` are set.
        FileExistsError: if ``out`` holds a run and neither is set (nothing is touched).
        ConfigMismatchError: if ``resume`` meets a run with other settings.
    """
    existing = occupied_files(out, RUN_FILES, "a run", "continue it", resume, overwrite)
    if overwrite:
        for f in existing:
            (out / f).unlink(missing_ok=True)  # only the run's own files; others stay
        return None
    if resume and (out / "run.json").exists():
        saved = json.loads((out / "run.json").read_text())
        for key, what in (("config", "model config"), ("data", "dataset")):
            check_same(saved[key], run[key], what)
        check_same(saved["train"], run["train"], "training setup", ignore=RESUMABLE_CHANGES)
    if resume and (out / "checkpoint.pt").exists():
        ckpt = load_checkpoint(out / "checkpoint.pt")
        check_same(ckpt["config"], run["config"], "model config")
        return ckpt
    return None


def pretrain(
    cfg: FusionXConfig,
    data: str | Dataset = "synthetic",
    out: str | os.PathLike | None = None,
    *,
    train: TrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    length: int | None = None,
    data_seed: int = 0,
    progress: bool = True,
    **overrides,
) -> RunResult:
    """Pretrain a :class:`FusionXMAE` with AdamW and a warmup + cosine schedule.

    Args:
        cfg: model configuration (its ``mask_ratio`` and ``strategy`` drive the masking).
        data: a source name for :func:`fusionx_lite.data.build_dataset` or a Dataset of
            ``{"sar", "optical", ...}`` samples.
        out: output folder for run.json, checkpoints, loss.csv and loss.png (None: no files).
        train: training settings; keyword ``overrides`` (e.g. ``epochs=2``) replace fields.
        resume: continue the run saved in ``out`` (a fresh start if it has no checkpoint).
        overwrite: replace the run files in ``out`` (other files there are left alone).
        length: number of samples when ``data`` is a source name (None: its default).
        data_seed: seed of the dataset when ``data`` is a source name.
        progress: show a tqdm progress bar (notebook-aware).

    Returns:
        A :class:`RunResult` with the trained model and the loss log.

    Raises:
        ValueError: for unknown settings or a dataset that does not fit ``cfg``.
        FileExistsError: if ``out`` holds a run and neither ``resume`` nor ``overwrite`` is set.
        ConfigMismatchError: if ``resume`` meets a run saved with other settings.
    """
    train = _with_overrides(train or TrainConfig(), overrides)
    ds, data_desc = resolve_data(data, cfg, length, data_seed)
    device = pick_device(train.device, quiet=True)
    info = ddp.init_distributed(device.type)
    device = pick_device(train.device, info.local_rank, quiet=not info.is_main)
    if device.type == "cpu" and info.is_main and hasattr(os, "getloadavg"):
        note_busy_cpu()
    eff_batch = train.batch_size * train.accum_steps * info.world_size
    steps_per_epoch = len(ds) // eff_batch
    if steps_per_epoch == 0:
        raise ValueError(
            f"the dataset has {len(ds)} samples, fewer than one effective batch "
            f"({eff_batch} = batch_size x accum_steps x devices); lower batch_size"
        )
    run = {
        "config": cfg.to_dict(),
        "train": {**train.to_dict(), "world_size": info.world_size},
        "data": data_desc,
    }
    out = Path(out) if out is not None else None
    ckpt = None
    if out is not None:
        ckpt = prepare_out(out, run, resume, overwrite)  # every rank checks; rank 0 writes
        ddp.barrier(info)
        if info.is_main:
            out.mkdir(parents=True, exist_ok=True)
            (out / "run.json").write_text(json.dumps(run, indent=2))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(train.seed)
        model = FusionXMAE(cfg).to(device)
    opt = torch.optim.AdamW(
        model.parameters(), lr=0.0, betas=(0.9, 0.95), weight_decay=train.weight_decay
    )
    step = 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        restore_rng(ckpt["rng"])
        step = ckpt["step"]
    loop = _Loop(model, opt, ds, cfg, train, info, device, steps_per_epoch, eff_batch, run, out)
    result = loop.run(step, progress)
    ddp.shutdown(info)
    return result


class _Loop:
    """The training loop's state, split into short stages."""

    def __init__(
        self, model, opt, ds, cfg, train, info, device, steps_per_epoch, eff_batch, run, out
    ):
        self.raw, self.opt, self.ds, self.cfg, self.train = model, opt, ds, cfg, train
        self.info, self.device, self.out, self.run_info = info, device, out, run
        self.steps_per_epoch, self.eff_batch = steps_per_epoch, eff_batch
        self.total = steps_per_epoch * train.epochs
        self.peak = train.peak_lr(eff_batch)
        self.warmup = min(self.total, round(train.warmup_epochs * steps_per_epoch))
        self.amp = autocast_dtype(train.precision, device)
        self.model = model
        if info.distributed:
            ids = [info.local_rank] if device.type == "cuda" else None
            self.model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        kill = os.environ.get(KILL_ENV)
        self.kill_after = int(kill) if kill else None

    def run(self, step: int, progress: bool) -> RunResult:
        rows: list[dict] = []
        if self.out is not None and self.info.is_main:
            _truncate_log(self.out / "loss.csv", step)
        bar = tqdm(
            total=self.total,
            initial=step,
            disable=not (progress and self.info.is_main),
            desc="pretrain",
            unit="step",
        )
        start_time = time.perf_counter()
        self.model.train()
        while step < self.total:
            epoch, first = divmod(step, self.steps_per_epoch)
            batches = epoch_batches(
                len(self.ds), self.train, epoch, first, self.steps_per_epoch, self.info
            )
            loader = iter(
                DataLoader(
                    self.ds,
                    batch_sampler=batches,
                    num_workers=self.train.num_workers,
                    pin_memory=self.device.type == "cuda",
                )
            )
            for in_epoch in range(first, self.steps_per_epoch):
                row = self.step(loader, epoch, in_epoch, step)
                step += 1
                rows.append(row)
                self.log(row)
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{row['loss']:.4f}")
                ce = self.train.ckpt_every
                if (
                    step == self.total
                    or in_epoch + 1 == self.steps_per_epoch
                    or (ce and step % ce == 0)
                ):
                    self.save(step)
                if self.kill_after == step:
                    os.kill(os.getpid(), signal.SIGKILL)
        bar.close()
        seconds = time.perf_counter() - start_time
        self.finish()
        self.raw.eval()
        return RunResult(
            model=self.raw,
            out=self.out,
            steps=step,
            losses=rows,
            seconds=seconds,
            samples_per_s=len(rows) * self.eff_batch / max(seconds, 1e-9),
            device=str(self.device),
        )

    def step(self, loader, epoch: int, in_epoch: int, step: int) -> dict:
        """One optimiser step over ``accum_steps`` micro-batches."""
        lr = lr_at(
            step,
            peak_lr=self.peak,
            warmup_steps=self.warmup,
            total_steps=self.total,
            min_lr=min(self.train.min_lr, self.peak),
        )
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        sums = {"loss": 0.0, "loss_sar": 0.0, "loss_optical": 0.0}
        for micro in range(self.train.accum_steps):
            batch = next(loader)
            sar = batch["sar"].to(self.device, non_blocking=True)
            optical = batch["optical"].to(self.device, non_blocking=True)
            seed = derive_seed(self.train.seed, epoch, in_epoch, micro, self.info.rank)
            masks = torch.Generator().manual_seed(seed)
            last = micro == self.train.accum_steps - 1
            sync = (
                contextlib.nullcontext()
                if last or not self.info.distributed
                else self.model.no_sync()
            )
            with (
                sync,
                torch.random.fork_rng(devices=[]),
                torch.autocast(
                    self.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None
                ),
            ):
                torch.manual_seed(seed)  # dropout, if a model has any
                out = self.model(sar, optical, generator=masks)
                (out.loss / self.train.accum_steps).backward()
            for key in sums:
                value = getattr(out, key)
                sums[key] += 0.0 if value is None else value.item() / self.train.accum_steps
        self.opt.step()
        sums = {k: ddp.all_reduce_mean(v, self.info, self.device) for k, v in sums.items()}
        return {"step": step + 1, "epoch": epoch, "lr": lr, **sums}

    def log(self, row: dict) -> None:
        if self.out is None or not self.info.is_main:
            return
        path = self.out / "loss.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def save(self, step: int) -> None:
        if self.out is None or not self.info.is_main:
            return
        save_checkpoint(
            self.out / "checkpoint.pt",
            {
                "config": self.run_info["config"],
                "train": self.run_info["train"],
                "data": self.run_info["data"],
                "model": self.raw.state_dict(),
                "optimizer": self.opt.state_dict(),
                "step": step,
                "epoch": step // self.steps_per_epoch,
                "step_in_epoch": step % self.steps_per_epoch,
                "rng": capture_rng(),
            },
        )

    def finish(self) -> None:
        """Check that every rank holds the same weights; draw the loss curve."""
        hashes = ddp.all_gather_strings(weights_hash(self.raw), self.info)
        if self.out is not None and self.info.is_main:
            if self.info.distributed:
                (self.out / "weights_sha256.json").write_text(
                    json.dumps({f"rank_{r}": h for r, h in enumerate(hashes)}, indent=2)
                )
            from fusionx_lite.curves import plot_loss_curve

            plot_loss_curve(self.out / "loss.csv", self.out / "loss.png")
        if len(set(hashes)) > 1:
            raise RuntimeError(f"ranks disagree on the weights after training: {hashes}")


def _truncate_log(path: Path, step: int) -> None:
    """Drop log rows past ``step``: a resumed run redoes those steps."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["step"]) <= step]
    if not rows:
        path.unlink()
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _with_overrides(train: TrainConfig, overrides: dict) -> TrainConfig:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown training settings {unknown}; known: {sorted(known)}")
    return dataclasses.replace(train, **overrides)


def load_pretrained(path: str | os.PathLike, map_location: str = "cpu") -> FusionXMAE:
    """A :class:`FusionXMAE` rebuilt from a checkpoint (or a run folder), in eval mode.

    Args:
        path: ``checkpoint.pt`` or the folder holding it.
        map_location: device for the weights.

    Returns:
        The model, with ``model.cfg`` read from the checkpoint.
    """
    path = Path(path)
    ckpt = load_checkpoint(path / "checkpoint.pt" if path.is_dir() else path, map_location)
    model = FusionXMAE(FusionXConfig.from_dict(ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.to(map_location).eval()
