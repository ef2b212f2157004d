"""Learning-rate schedule: linear warmup, then a cosine decay, as a pure function of the step.

A pure function of the step (no scheduler object with hidden state) is what makes a killed
run resumable: the step number alone tells the optimiser which learning rate to use.

    >>> lr_at(0, peak_lr=1e-3, warmup_steps=10, total_steps=100)
    0.0001
"""

from __future__ import annotations

import math

MAE_REFERENCE_BATCH = 256  # MAE scales its base learning rate by batch / 256


def scaled_lr(base_lr: float, batch_size: int) -> float:
    """MAE's linear scaling rule: ``lr = base_lr * batch_size / 256``.

    Args:
        base_lr: learning rate for a batch of 256 samples (MAE uses 1.5e-4).
        batch_size: effective batch size (per-device batch x devices x accumulation steps).

    Returns:
        The learning rate for ``batch_size``.

    Raises:
        ValueError: if ``base_lr`` is not positive or ``batch_size`` is below 1.
    """
    if base_lr <= 0:
        raise ValueError(f"base_lr must be > 0, got {base_lr}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return base_lr * batch_size / MAE_REFERENCE_BATCH


def lr_at(
    step: int, *, peak_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate for optimiser step ``step`` (0-based).

    Steps ``0 .. warmup_steps - 1`` rise linearly to ``peak_lr`` (step ``s`` gets
    ``peak_lr * (s + 1) / warmup_steps`` so the first step already learns); the remaining
    steps follow half a cosine from ``peak_lr`` down to ``min_lr``, reached at
    ``total_steps``. Steps past the end stay at ``min_lr``.

    Args:
        step: optimiser step, counted from 0.
        peak_lr: learning rate at the end of the warmup.
        warmup_steps: length of the linear warmup (0 for none).
        total_steps: length of the whole schedule.
        min_lr: floor of the cosine decay.

    Returns:
        The learning rate as a float.

    Raises:
        ValueError: if the arguments are inconsistent (negative step, warmup longer than
            the schedule, ``min_lr`` above ``peak_lr``).
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(
            f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}"
        )
    if not 0 <= min_lr <= peak_lr:
        raise ValueError(f"min_lr must be in [0, peak_lr={peak_lr}], got {min_lr}")
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 at the peak, -> 1
    return min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
