"""The notebook course: committed notebooks follow the course habits and run.

* every committed notebook matches its source in ``notebooks/src/`` (``notebooks/build.py``);
* each has badges, a Colab-only install cell, a ``parameters`` cell of plain values that
  covers every CI knob, 1 to 3 checked exercises, a summary and kernel metadata;
* each runs under papermill with the small CI parameters of ``fusionx_lite.course``;
* nbval (``--nbval-lax``) re-runs the committed notebooks and compares the outputs of
  the cells marked ``# NBVAL_CHECK_OUTPUT`` (shapes, counts, parameter numbers).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fusionx_lite.course import CI_PARAMETERS, NOTEBOOKS, THREADS_ENV, execute, notebook_path

ROOT = Path(__file__).resolve().parents[1]
REPO = "fusionx-lite/fusionx-lite"


@pytest.fixture
def one_thread(monkeypatch):
    """Kernels use one PyTorch thread: two threads crawl on a 2-core CPU shared with others."""
    monkeypatch.setenv(THREADS_ENV, "1")


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(name), as_version=4)


def build_module():
    spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell must be tagged `parameters`"
    return cells[0]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_matches_its_source(name):
    built = build_module().build(ROOT / "notebooks" / "src" / f"{name}.py")
    committed = load(name)

    def cells(nb):  # papermill adds empty tag lists; the kernel fills in its version
        return [(c.cell_type, c.source, c.metadata.get("tags") or []) for c in nb.cells]

    stale = f"notebooks/{name}.ipynb is stale: run `python notebooks/build.py {name[:2]}`"
    assert cells(committed) == cells(built), stale + " and re-execute it"
    for key in ("kernelspec", "colab", "accelerator"):
        assert committed.metadata.get(key) == built.metadata.get(key), stale
    assert committed.metadata.language_info.name == "python"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_opens_with_goals_badges_and_a_colab_only_install(name):
    nb = load(name)
    intro, install = nb.cells[0], nb.cells[1]
    assert intro.cell_type == "markdown" and "You will learn" in intro.source
    colab = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{name}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{REPO}/HEAD?labpath=notebooks%2F{name}.ipynb"
    assert colab in intro.source and binder in intro.source
    assert 'if "google.colab" in sys.modules:' in install.source
    assert f"git+https://github.com/{REPO}" in install.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_are_plain_values_covering_every_ci_knob(name):
    tree = ast.parse(parameters_cell(load(name)).source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), "the parameters cell holds assignments only"
        ast.literal_eval(node.value)  # a literal: derived values belong in a later cell
        names |= {t.id for t in node.targets}
    assert set(CI_PARAMETERS[name]) <= names
    assert "seed" in names, "fixed seeds are a parameter"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercises_are_checked_and_the_notebook_ends_with_a_summary(name):
    nb = load(name)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    exercises = sorted(set(re.findall(r"\*\*Exercise (\d)", markdown)))
    assert 1 <= len(exercises) <= 3
    for n in exercises:
        assert f"Exercise {n}: correct" in code, f"exercise {n} has no checking cell"
        assert f"Exercise {n}: not answered yet" in code
    assert "<summary>Solutions</summary>" in markdown
    assert "## Summary" in nb.cells[-1].source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_hold_outputs_and_no_errors(name):
    nb = load(name)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.language_info.name == "python"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), (
        "run `python -m fusionx_lite.course --in-place`"
    )
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert any(c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in code)
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)


def test_the_pretraining_notebook_asks_colab_for_a_gpu():
    meta = load("04_pretrain").metadata
    assert meta["accelerator"] == "GPU" and meta["colab"]["gpuType"] == "T4"


# The solutions of the exercises: each replaces the line of an answer cell that starts
# with the given text. The CI run below fills them in, so the checking cells are tested
# with right answers (nbval runs the committed notebooks, where they are unanswered).
SOLUTIONS: dict[str, list[tuple[str, str]]] = {
    "01_data_tour": [
        (
            "nearest_to_bare_soil = None",
            """soil = world.class_names.index("Bare soil")
dist = np.linalg.norm((opt_mean - opt_mean[soil]) / (np.array(OPTICAL_STD) / 10000), axis=1)
dist[soil] = np.inf
dist[~seen] = np.inf
k = int(dist.argmin())
nearest_to_bare_soil = world.class_names[k]""",
        ),
        ("vv_gap_db = None", "vv_gap_db = abs(sar_mean[soil, 0] - sar_mean[k, 0])"),
        (
            "hidden_fraction = None",
            'hidden_fraction = np.mean([world[i]["cloud"].mean().item()\n'
            "                           for i in range(num_stats)])",
        ),
    ],
    "02_build_the_encoder": [
        ("tokens_per_image = None", "tokens_per_image = 2 * (L - round(mask_ratio * L))"),
        ("    return None  # your formula", "    return 4 * d * d + 4 * d"),
        (
            "shuffled = None",
            """perm = torch.randperm(opt_vis.shape[1])
shuffled = my_cross_block(fusion[0].sar_from_optical, sar_vis, opt_vis[:, perm])[0]""",
        ),
    ],
    "03_masking_strategies": [
        ("    return None  # your formula", "    return (L - h) / L"),
        (
            "pasted = None",
            """pasted = torch.where(out1.mask_optical[0][:, None], out1.pred_optical[0],
                     patchify(sample["optical"][None], P)[0])""",
        ),
        (
            "lower_error_strategy = None",
            """sel = {r["test"]: r["optical"] for r in rows
       if r["model"] == "independent" and abs(r["ratio"] - mask_ratio) < 1e-9}
lower_error_strategy = min(sel, key=sel.get)""",
        ),
    ],
    "04_pretrain": [
        ("expected_steps = None", "expected_steps = epochs * (length // batch_size)"),
        ("zero_loss_sar = None", 'zero_loss_sar = (vb["sar"] ** 2).mean().item()'),
        ("zero_loss_optical = None", 'zero_loss_optical = (vb["optical"] ** 2).mean().item()'),
    ],
    "05_real_data_reconstructions": [
        (
            "hardest_patch = None",
            """row = next(r for r in table if r["strategy"] == "independent"
           and r["ratio"] == middle and r["modality"] == "optical")
hardest_patch = int(np.argmax(row["real per patch"]))""",
        ),
        (
            "domain_gap = None",
            """row = next(r for r in table if r["strategy"] == "consistent"
           and r["ratio"] == middle and r["modality"] == "optical")
domain_gap = row["real"] / row["synthetic"]""",
        ),
    ],
    "06_low_label_learning_curves": [
        (
            "best_at_few_labels = None",
            """scores = {m: mean_std(m, "linear", fractions[0])[0] for m in methods}
best_at_few_labels = max((m for m in scores if not np.isnan(scores[m])), key=scores.get)""",
        ),
        (
            "sar_only_change = None",
            """full, sar = (mean_std("fusionx-independent", p, fractions[-1])[0]
             for p in ("linear", "linear-sar-only"))
sar_only_change = 100 * (sar - full)""",
        ),
    ],
}


def with_solutions(name: str, folder: Path) -> Path:
    """A copy of the committed notebook with every exercise answered."""
    nb = load(name)
    for prefix, solution in SOLUTIONS[name]:
        cells = [
            c
            for c in nb.cells
            if c.cell_type == "code"
            and any(line.startswith(prefix) for line in c.source.splitlines())
        ]
        assert len(cells) == 1, f"answer cell {prefix!r} not found once in {name}"
        cells[0].source = "\n".join(
            solution if line.startswith(prefix) else line for line in cells[0].source.splitlines()
        )
    path = folder / f"{name}-solved.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_with_ci_parameters_and_accepts_the_solutions(name, tmp_path, one_thread):
    output = tmp_path / f"{name}.ipynb"
    run = execute(
        name,
        output,
        CI_PARAMETERS[name],
        cwd=tmp_path,
        source=with_solutions(name, tmp_path),
        progress=False,
    )
    assert run.error is None, f"{name} failed under papermill: {run.error}"
    printed = "".join(
        o.get("text", "")
        for c in nbformat.read(output, as_version=4).cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    for n in sorted(set(re.findall(r"Exercise (\d): not answered", str(load(name))))):
        assert f"Exercise {n}: correct" in printed, (
            f"the check of exercise {n} refused its solution"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_outputs_are_reproduced_by_nbval(name, tmp_path, one_thread):
    copy = shutil.copy(notebook_path(name), tmp_path)  # the kernel runs in tmp_path
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-q",
            "-p",
            "no:cacheprovider",
            str(copy),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
