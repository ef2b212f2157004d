"""Run the notebook course: execute every notebook with papermill, render HTML, index it.

    python -m fusionx_lite.course --out outputs          # the whole sequence, CPU, default data
    python -m fusionx_lite.course --in-place             # refresh the committed notebooks
    python -m fusionx_lite.course --ci --out /tmp/ci     # small CI parameters
    python -m fusionx_lite.course --measure-memory       # peak RSS of each kernel, as a table
    python -m fusionx_lite.course --only 03 --out outputs
    python -m fusionx_lite.course --threads 1 --out outputs   # on a busy CPU

The notebooks live in ``notebooks/`` of the repository, written from the readable
sources in ``notebooks/src/`` by ``python notebooks/build.py`` and committed with the
outputs of ``--in-place``. :data:`CI_PARAMETERS` holds the small values the tests inject
into each notebook's ``parameters`` cell. The notebooks find the small pretrained
checkpoints through :func:`checkpoint_path` (made by ``checkpoints/make_checkpoints.py``)
and give PyTorch :func:`cpu_threads` threads.
"""

from __future__ import annotations

import argparse
import html
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_URL = "https://github.com/fusionx-lite/fusionx-lite"
REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = (
    "01_data_tour",
    "02_build_the_encoder",
    "03_masking_strategies",
    "04_pretrain",
    "05_real_data_reconstructions",
    "06_low_label_learning_curves",
)
DESCRIPTIONS = {  # one line per notebook, for the index page
    "01_data_tour": "SAR and optical side by side, the synthetic world's clouds and speckle, "
    "the real BigEarthNet patches on a map",
    "02_build_the_encoder": "patch and modality embeddings, masking and cross-attention written "
    "out step by step, checked against the package",
    "03_masking_strategies": "consistent against independent masking on two pretrained models: "
    "live reconstructions, error curves, attention maps",
    "04_pretrain": "pretrain a model on GPU or CPU with progress bars and the loss curve",
    "05_real_data_reconstructions": "the synthetic-world models on real BigEarthNet patches, "
    "judged against a baseline",
    "06_low_label_learning_curves": "mAP against the label fraction for every method, and the "
    "missing-modality checks",
}
KERNEL = "python3"
THREADS_ENV = "FUSIONX_THREADS"  # CPU threads of the notebooks' PyTorch (see cpu_threads)
# One dict per notebook: the values CI injects into its `parameters` cell.
CI_PARAMETERS: dict[str, dict] = {
    "01_data_tour": {"img_size": 32, "num_scenes": 2, "num_stats": 24, "show_map": True},
    "02_build_the_encoder": {"preset": "tiny", "batch_size": 2},
    "03_masking_strategies": {"num_eval": 4, "ratios": [0.5, 0.75]},
    "04_pretrain": {"preset": "tiny", "length": 64, "epochs": 1, "batch_size": 16},
    "05_real_data_reconstructions": {"ratios": [0.75], "num_synthetic": 4},
    "06_low_label_learning_curves": {"run_comparison": True, "quick": True},
}
CHECKPOINTS = {s: f"lite-{s}.pt" for s in ("consistent", "independent")}
EXPERIMENT_RESULTS = "checkpoints/experiment-lite/results.csv"


# ---------------------------------------------------------------- threads
def cpu_threads() -> int:
    """How many CPU threads the notebooks give PyTorch.

    ``$FUSIONX_THREADS`` when set (``--threads`` sets it for the kernels); otherwise the
    CPUs this process may run on, capped by a container's CPU quota. PyTorch's own
    default counts the host's cores, which on Binder (a quota of one or two CPUs on a
    many-core host) starts far more threads than can run and makes training crawl.
    """
    if os.environ.get(THREADS_ENV):
        return max(1, int(os.environ[THREADS_ENV]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    try:  # cgroup v2: "max 100000" (no quota) or "200000 100000" (2 CPUs)
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


# ------------------------------------------------------------ checkpoints
def kit_file(relative: str) -> Path:
    """A file the kit keeps in its repository (checkpoints, results), as a local path.

    Uses the repository's copy when the package runs from a clone (tests, Binder, an
    editable install); otherwise (a pip install on Colab) downloads it from the
    repository once into ``~/.cache/fusionx_lite/``.

    Args:
        relative: path inside the repository, e.g. ``"checkpoints/lite-consistent.pt"``.

    Raises:
        FileNotFoundError: when the file is not local and cannot be downloaded.
    """
    local = REPO_ROOT / relative
    if local.is_file():
        return local
    cache = Path.home() / ".cache" / "fusionx_lite" / relative
    if not cache.is_file():
        url = f"{REPO_URL}/raw/main/{relative}"
        try:
            from torch.hub import download_url_to_file

            cache.parent.mkdir(parents=True, exist_ok=True)
            download_url_to_file(url, str(cache), progress=False)
        except Exception as err:  # no network, or no such file upstream
            raise FileNotFoundError(
                f"{relative} is not in {REPO_ROOT} and downloading {url} failed ({err}); "
                "run `python checkpoints/make_checkpoints.py` in a clone of the repository"
            ) from err
    return cache


def checkpoint_path(strategy: str, folder: str | os.PathLike | None = None) -> Path:
    """The small pretrained checkpoint of ``strategy`` (lite preset, synthetic world).

    Args:
        strategy: ``"consistent"`` or ``"independent"``.
        folder: a folder of your own checkpoints named ``lite-<strategy>.pt`` (notebook 4
            writes them); None: the kit's checkpoints (see :func:`kit_file`).

    Returns:
        Path of the checkpoint file.

    Raises:
        ValueError: for an unknown strategy.
        FileNotFoundError: when the file is missing (and, for the kit's, cannot be downloaded).
    """
    if strategy not in CHECKPOINTS:
        raise ValueError(f"strategy must be one of {tuple(CHECKPOINTS)}, got {strategy!r}")
    if folder is None:
        return kit_file(f"checkpoints/{CHECKPOINTS[strategy]}")
    path = Path(folder) / CHECKPOINTS[strategy]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: the folder needs {' and '.join(CHECKPOINTS.values())} "
            "(run notebook 4 with preset='lite' once per strategy), or use folder=None"
        )
    return path


def experiment_results() -> Path:
    """The kit's results table of the lite comparison (``make_checkpoints.py --experiment``)."""
    return kit_file(EXPERIMENT_RESULTS)


def slim_checkpoint(run: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Save a notebook-sized copy of a training checkpoint: config and fp16 weights.

    Drops the optimiser state and the random-generator states (about a sixth of the
    size); :func:`fusionx_lite.train.load_pretrained` loads the result (weights go back
    to float32).

    Args:
        run: a run folder or its ``checkpoint.pt``.
        path: the file to write.

    Returns:
        ``path``.
    """
    import torch

    from fusionx_lite.checkpoint import load_checkpoint, save_checkpoint

    run = Path(run)
    ckpt = load_checkpoint(run / "checkpoint.pt" if run.is_dir() else run)
    weights = {
        k: v.to(torch.float16) if v.is_floating_point() else v for k, v in ckpt["model"].items()
    }
    keep = {k: ckpt[k] for k in ("config", "train", "data", "step", "epoch") if k in ckpt}
    return save_checkpoint(path, {**keep, "model": weights})


# -------------------------------------------------------------- execution
@dataclass
class NotebookRun:
    """One executed notebook."""

    name: str
    ipynb: Path
    html: Path | None
    seconds: float
    peak_rss_mb: float | None  # peak resident memory of the kernel's process tree
    error: str | None = None  # the first line of the error, if the notebook failed


class PeakMemory:
    """Poll the resident memory of this process's children (the kernel) in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._psutil, self.interval = psutil, interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = self._psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except self._psutil.Error:  # the process ended between listing and reading
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def notebook_path(name: str, folder: Path | None = None) -> Path:
    """``notebooks/<name>.ipynb`` of the repository (or of ``folder``)."""
    return (folder or REPO_ROOT / "notebooks") / f"{name}.ipynb"


def execute(
    name: str,
    output: Path,
    parameters: dict | None = None,
    cwd: Path | None = None,
    source: Path | None = None,
    progress: bool = True,
    measure_memory: bool = False,
) -> NotebookRun:
    """Execute one notebook with papermill; a failing notebook is reported, not raised.

    Args:
        name: notebook name without ``.ipynb`` (see :data:`NOTEBOOKS`).
        output: where the executed notebook is written.
        parameters: values injected after the ``parameters`` cell.
        cwd: working directory of the kernel (None: the output's folder).
        source: the notebook to run (None: the repository's copy).
        progress: show papermill's cell progress bar.
        measure_memory: record the kernel's peak resident memory.
    """
    import papermill

    source = source or notebook_path(name)
    output.parent.mkdir(parents=True, exist_ok=True)
    cwd = cwd or output.parent
    cwd.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    error = None
    monitor = PeakMemory() if measure_memory else None
    try:
        if monitor:
            monitor.__enter__()
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters or {},
            kernel_name=KERNEL,
            cwd=str(cwd),
            progress_bar=progress,
            request_save_on_cell_execute=False,
        )
    except Exception as err:  # papermill saves the failed notebook; keep going
        error = (str(err).strip().splitlines() or [type(err).__name__])[-1]
    finally:
        if monitor:
            monitor.__exit__()
    peak = monitor.peak_bytes / 2**20 if monitor else None
    return NotebookRun(name, output, None, time.perf_counter() - start, peak, error)


def strip_run_metadata(path: Path) -> None:
    """Drop papermill's timings from a notebook so re-runs give small diffs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def render_html(ipynb: Path, html_path: Path) -> Path:
    """Render an executed notebook to a standalone HTML page with nbconvert."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(ipynb, as_version=4))
    html_path.write_text(body, encoding="utf-8")
    return html_path


def write_index(out: Path, runs: Sequence[NotebookRun]) -> Path:
    """``index.html`` in ``out`` linking every rendered notebook, with times and memory."""
    rows = []
    for r in runs:
        page = (
            f'<a href="{html.escape(r.html.name)}">{html.escape(r.name)}</a>' if r.html else r.name
        )
        memory = f"{r.peak_rss_mb:.0f} MB" if r.peak_rss_mb is not None else ""
        status = "ok" if r.error is None else f"failed: {html.escape(r.error)}"
        about = html.escape(DESCRIPTIONS.get(r.name, ""))
        rows.append(
            f"<tr><td>{page}</td><td>{about}</td>"
            f'<td><a href="{html.escape(r.ipynb.name)}">ipynb</a></td>'
            f"<td>{r.seconds:.0f} s</td><td>{memory}</td><td>{status}</td></tr>"
        )
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>FusionX-Lite course'
        "</title></head><body>\n<h1>FusionX-Lite: the notebook course</h1>\n"
        '<table border="1" cellpadding="4">\n<tr><th>notebook</th><th>what it teaches</th>'
        "<th>executed</th>"
        "<th>time</th><th>peak memory</th><th>status</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def run_course(
    out: Path | None,
    names: Sequence[str] = NOTEBOOKS,
    ci: bool = False,
    in_place: bool = False,
    measure_memory: bool = False,
    progress: bool = True,
    source_dir: Path | None = None,
) -> list[NotebookRun]:
    """Execute notebooks in order; write them (and HTML plus an index) to ``out``.

    Args:
        out: output folder (ignored with ``in_place``; None: a temporary folder).
        names: which notebooks.
        ci: inject :data:`CI_PARAMETERS`.
        in_place: overwrite the source notebooks with their executed versions (kernel in
            their folder, no HTML).
        measure_memory: record each kernel's peak resident memory.
        progress: print a line per notebook and show papermill's progress bar.
        source_dir: folder of the notebooks (None: the repository's ``notebooks/``).

    Returns:
        One :class:`NotebookRun` per notebook, in order; failures are recorded in
        ``error``, not raised.
    """
    runs = []
    with tempfile.TemporaryDirectory(prefix="fusionx-course-") as tmp:
        folder = Path(tmp) if out is None else Path(out)
        for i, name in enumerate(names, 1):
            if progress:
                print(f"[{i}/{len(names)}] {name} ...", flush=True)
            source = notebook_path(name, source_dir)
            target = source if in_place else folder / f"{name}.ipynb"
            cwd = target.parent if in_place else folder / "work"
            params = CI_PARAMETERS.get(name, {}) if ci else {}
            run = execute(name, target, params, cwd, source, progress, measure_memory)
            if in_place:
                strip_run_metadata(target)
            elif out is not None:
                run.html = render_html(target, folder / f"{name}.html")
            runs.append(run)
            if progress:
                memory = f", peak {run.peak_rss_mb:.0f} MB" if run.peak_rss_mb else ""
                status = "done" if run.error is None else f"FAILED: {run.error}"
                print(f"    {status} in {run.seconds:.0f} s{memory}", flush=True)
        if out is not None and not in_place:
            write_index(folder, runs)
    return runs


def memory_table(runs: Sequence[NotebookRun]) -> str:
    """A markdown table of time and peak kernel memory per notebook."""
    lines = ["| notebook | time (s) | peak RSS (MB) |", "|---|---:|---:|"]
    for r in runs:
        peak = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb is not None else "n/a"
        lines.append(
            f"| {r.name}{'' if r.error is None else ' (failed)'} | {r.seconds:.0f} | {peak} |"
        )
    return "\n".join(lines)


def select(only: Sequence[str] | None) -> list[str]:
    """Notebook names matching ``--only`` values (a number such as 3 or 03, or a name)."""
    if not only:
        return list(NOTEBOOKS)
    chosen = []
    for item in only:
        key = item.removesuffix(".ipynb")
        key = f"{int(key):02d}" if key.isdigit() else key
        matches = [n for n in NOTEBOOKS if n == key or n.startswith(f"{key}_")]
        if not matches:
            raise ValueError(
                f"--only must name a notebook (1-6 or one of {NOTEBOOKS}), got {item!r}"
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fusionx_lite.course",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", help="folder for executed notebooks, HTML and index.html")
    parser.add_argument("--in-place", action="store_true", help="refresh notebooks/*.ipynb")
    parser.add_argument("--ci", action="store_true", help="use the small CI parameters")
    parser.add_argument(
        "--measure-memory", action="store_true", help="print each kernel's peak resident memory"
    )
    parser.add_argument("--only", nargs="+", metavar="NB", help="run only these notebooks")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="PyTorch CPU threads in the notebooks (1 is fastest on a busy CPU)",
    )
    args = parser.parse_args(argv)
    if args.in_place and args.out:
        parser.error("choose one of --in-place and --out")
    if not (args.out or args.in_place or args.measure_memory):
        parser.error("give --out FOLDER, --in-place or --measure-memory")
    try:
        names = select(args.only)
    except ValueError as err:
        parser.error(str(err))
    if args.threads:
        os.environ[THREADS_ENV] = str(args.threads)  # the kernels inherit it
    start = time.perf_counter()
    runs = run_course(
        Path(args.out) if args.out else None,
        names,
        ci=args.ci,
        in_place=args.in_place,
        measure_memory=args.measure_memory,
    )
    print(f"{len(runs)} notebooks in {time.perf_counter() - start:.0f} s")
    if args.measure_memory:
        print(memory_table(runs))
    if args.out:
        print(f"open {Path(args.out) / 'index.html'}")
    failed = [r.name for r in runs if r.error]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
