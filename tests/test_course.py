"""The course runner: execution, HTML pages, the index, memory, checkpoints, the CLI."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE
from fusionx_lite.checkpoint import save_checkpoint
from fusionx_lite.course import (
    CHECKPOINTS,
    CI_PARAMETERS,
    DESCRIPTIONS,
    NOTEBOOKS,
    NotebookRun,
    checkpoint_path,
    main,
    memory_table,
    run_course,
    select,
    slim_checkpoint,
    strip_run_metadata,
)
from fusionx_lite.train import load_pretrained


def tiny_notebook(folder: Path, name: str, body: str) -> Path:
    """A two-cell notebook: a `parameters` cell (greeting) and ``body``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('greeting = "hello"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_run_writes_executed_notebooks_html_pages_and_an_index(tmp_path):
    src = tmp_path / "src"
    tiny_notebook(src, "00_ok", "x = list(range(10**6))\nprint(greeting, 'from the tiny notebook')")
    tiny_notebook(src, "00_broken", "raise RuntimeError('this notebook is broken')")
    out = tmp_path / "out"
    runs = run_course(
        out, ["00_ok", "00_broken"], measure_memory=True, progress=False, source_dir=src
    )
    ok, broken = runs
    assert ok.error is None and "broken" in broken.error
    executed = nbformat.read(out / "00_ok.ipynb", as_version=4)
    assert "hello from the tiny notebook" in executed.cells[-1].outputs[0]["text"]
    assert "hello from the tiny notebook" in (out / "00_ok.html").read_text()
    index = (out / "index.html").read_text()
    assert 'href="00_ok.html"' in index and 'href="00_broken.ipynb"' in index
    assert "failed: " in index and index.count("<tr>") == 3
    assert 20 < ok.peak_rss_mb < 2000  # a Python kernel holding a list of a million ints
    assert (out / "work").is_dir()  # the kernels ran there, not in the source folder


def test_in_place_runs_overwrite_the_source_without_papermill_timings(tmp_path):
    path = tiny_notebook(tmp_path, "00_ok", "print(greeting)")
    (run,) = run_course(None, ["00_ok"], in_place=True, progress=False, source_dir=tmp_path)
    assert run.error is None and run.html is None
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "hello\n"
    assert "papermill" not in nb.metadata
    assert not any("papermill" in c.metadata or "execution" in c.metadata for c in nb.cells)


def test_strip_run_metadata_keeps_tags(tmp_path):
    path = tiny_notebook(tmp_path, "00_x", "pass")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.cells[1].metadata["papermill"] = {"status": "completed"}
    nbformat.write(nb, path)
    strip_run_metadata(path)
    nb = nbformat.read(path, as_version=4)
    assert "papermill" not in nb.metadata and nb.cells[1].metadata == {"tags": ["parameters"]}


def test_every_notebook_has_ci_parameters_and_a_description():
    assert set(CI_PARAMETERS) == set(NOTEBOOKS) == set(DESCRIPTIONS)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, list(NOTEBOOKS)),
        (["3"], ["03_masking_strategies"]),
        (["04_pretrain.ipynb", "1"], ["04_pretrain", "01_data_tour"]),
        (["06"], [NOTEBOOKS[5]]),
    ],
)
def test_only_accepts_numbers_and_names(given, expected):
    assert select(given) == expected


def test_only_refuses_unknown_notebooks():
    with pytest.raises(ValueError, match="--only must name a notebook"):
        select(["9"])


def test_memory_table_lists_time_and_peak_per_notebook():
    runs = [
        NotebookRun("01_data_tour", Path("a"), None, 12.3, 812.4),
        NotebookRun("02_build_the_encoder", Path("b"), None, 5.0, None, error="boom"),
    ]
    lines = memory_table(runs).splitlines()
    assert lines[2] == "| 01_data_tour | 12 | 812 |"
    assert lines[3] == "| 02_build_the_encoder (failed) | 5 | n/a |"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --out FOLDER"),
        (["--in-place", "--out", "x"], "choose one of"),
        (["--out", "x", "--only", "7"], "--only must name"),
    ],
)
def test_command_line_errors_name_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_checkpoint_path_names_the_missing_file(tmp_path):
    with pytest.raises(ValueError, match="strategy must be one of"):
        checkpoint_path("random")
    with pytest.raises(FileNotFoundError, match="notebook 4"):
        checkpoint_path("consistent", tmp_path)
    (tmp_path / CHECKPOINTS["independent"]).write_bytes(b"")
    assert checkpoint_path("independent", tmp_path) == tmp_path / "lite-independent.pt"


@pytest.mark.parametrize("strategy", sorted(CHECKPOINTS))
def test_the_kit_checkpoints_load_as_lite_models(strategy):
    model = load_pretrained(checkpoint_path(strategy))
    assert model.cfg == FusionXConfig.lite(strategy=strategy)
    assert checkpoint_path(strategy).stat().st_size < 4 * 2**20


def test_slim_checkpoints_keep_the_model_in_float16(tmp_path):
    cfg = FusionXConfig.tiny()
    torch.manual_seed(0)
    model = FusionXMAE(cfg).eval()
    opt = torch.optim.AdamW(model.parameters())
    full = save_checkpoint(
        tmp_path / "run" / "checkpoint.pt",
        {
            "config": cfg.to_dict(),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": 3,
            "epoch": 1,
            "rng": {"torch": torch.get_rng_state()},
        },
    )
    slim = slim_checkpoint(tmp_path / "run", tmp_path / "slim.pt")
    assert slim.stat().st_size < full.stat().st_size
    state = torch.load(slim, weights_only=True)
    assert "optimizer" not in state and state["step"] == 3
    assert all(v.dtype == torch.float16 for v in state["model"].values() if v.is_floating_point())
    reloaded = load_pretrained(slim)
    x = torch.randn(2, 2, 32, 32), torch.randn(2, 12, 32, 32)
    with torch.no_grad():
        a = model(*x, generator=torch.Generator().manual_seed(0))
        b = reloaded(*x, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a.pred_optical, b.pred_optical, atol=1e-2)
