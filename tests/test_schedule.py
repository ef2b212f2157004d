"""The learning-rate schedule: warmup then cosine, a pure function of the step."""

import math

import pytest

from fusionx_lite.schedule import lr_at, scaled_lr

SCHEDULE = dict(peak_lr=1e-3, warmup_steps=10, total_steps=110, min_lr=1e-5)


def test_warmup_rises_linearly_and_first_step_already_learns():
    assert lr_at(0, **SCHEDULE) == pytest.approx(1e-4)
    assert lr_at(4, **SCHEDULE) == pytest.approx(5e-4)
    assert lr_at(9, **SCHEDULE) == pytest.approx(1e-3)


def test_cosine_values_at_known_steps():
    assert lr_at(10, **SCHEDULE) == pytest.approx(1e-3)  # start of the decay: the peak
    # halfway through the 100 decay steps the cosine is at 0: mean of peak and floor
    assert lr_at(60, **SCHEDULE) == pytest.approx((1e-3 + 1e-5) / 2)
    quarter = 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 0.25))
    assert lr_at(35, **SCHEDULE) == pytest.approx(quarter)
    assert lr_at(110, **SCHEDULE) == pytest.approx(1e-5)
    assert lr_at(500, **SCHEDULE) == pytest.approx(1e-5)  # past the end: stays at the floor


def test_decay_is_monotone_after_warmup():
    values = [lr_at(s, **SCHEDULE) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_no_warmup_starts_at_peak():
    assert lr_at(0, peak_lr=2.0, warmup_steps=0, total_steps=4) == pytest.approx(2.0)


def test_mae_linear_scaling_rule():
    assert scaled_lr(1.5e-4, 256) == pytest.approx(1.5e-4)
    assert scaled_lr(1.5e-4, 4096) == pytest.approx(2.4e-3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(step=-1), "step"),
        (dict(total_steps=0), "total_steps"),
        (dict(warmup_steps=200), "warmup_steps"),
        (dict(min_lr=1.0), "min_lr"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    args = {"step": 0, **SCHEDULE, **kwargs}
    with pytest.raises(ValueError, match=name):
        lr_at(**args)
