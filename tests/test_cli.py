"""The command line: every bad input is a clear error; a tiny pretrain + evaluate runs."""

import csv

import pytest

from fusionx_lite.cli import main
from fusionx_lite.evaluate import COLUMNS

pytestmark = pytest.mark.usefixtures("torch_one_thread")


TINY = "--preset tiny --data synthetic --length 16 --epochs 1 --batch-size 8 --no-progress".split()


def fails(argv, capsys):
    """Run the CLI, expect exit status 2, return what it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option", "allowed"),
    [
        (["pretrain", "--preset", "huge", "--out", "x"], "--preset", "'tiny', 'lite', 'base'"),
        (["pretrain", "--strategy", "random", "--out", "x"], "--strategy", "'consistent'"),
        (["pretrain", "--data", "imagenet", "--out", "x"], "--data", "'synthetic'"),
        (
            ["evaluate", "--checkpoint", "c", "--out", "x", "--protocols", "knn"],
            "--protocols",
            "'linear', 'finetune'",
        ),
        (["experiment", "--preset", "xl"], "--preset", "'lite'"),
    ],
)
def test_unknown_choices_name_the_option_and_allowed_values(argv, option, allowed, capsys):
    err = fails(argv, capsys)
    assert option in err and "invalid choice" in err and allowed in err


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "half"])
def test_fractions_outside_zero_one_are_refused(value, capsys):
    err = fails(
        ["evaluate", "--checkpoint", "c", "--out", "x", "--fractions", "0.1", value], capsys
    )
    assert "--fractions" in err and ("(0, 1]" in err or "not a number" in err)


def test_resume_and_overwrite_together_are_refused(capsys):
    err = fails(["pretrain", "--out", "x", "--resume", "--overwrite"], capsys)
    assert "not allowed with argument" in err


def test_bad_numbers_name_the_setting(tmp_path, capsys):
    assert "threads must be a positive integer" in fails(
        ["pretrain", *TINY, "--out", str(tmp_path / "a"), "--threads", "0"], capsys
    )
    assert "epochs must be a positive integer" in fails(
        ["pretrain", *TINY, "--epochs", "0", "--out", str(tmp_path / "b")], capsys
    )
    assert "mask_ratio must be in [0, 1)" in fails(
        ["pretrain", *TINY, "--mask-ratio", "1.2", "--out", str(tmp_path / "c")], capsys
    )


def test_pretrain_then_evaluate_and_a_folder_holding_another_run(tmp_path, capsys):
    run = tmp_path / "run"
    main(["pretrain", *TINY, "--out", str(run)])
    assert "done: 2 steps" in capsys.readouterr().out
    saved = {p.name: p.read_bytes() for p in run.iterdir()}
    err = fails(["pretrain", *TINY, "--strategy", "independent", "--out", str(run)], capsys)
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    err = fails(
        ["pretrain", *TINY, "--strategy", "independent", "--out", str(run), "--resume"], capsys
    )
    assert "different model config" in err and "strategy" in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == saved  # nothing lost

    ev = tmp_path / "eval"
    options = "--fractions 0.5 1 --seeds 0 --train-length 32 --test-length 32 "
    options += "--finetune-fractions 0.5 1 --finetune-steps 2 --no-progress"
    args = ["evaluate", "--checkpoint", str(run), "--out", str(ev), *options.split()]
    main(args)
    with (ev / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2  # fractions x protocols x metrics
    assert tuple(rows[0]) == COLUMNS and {r["method"] for r in rows} == {"run"}
    assert (ev / "curves_linear.png").exists() and (ev / "splits.json").exists()
    assert "already holds results.csv" in fails(args, capsys)


def test_help_lists_the_three_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("pretrain", "evaluate", "experiment"))
