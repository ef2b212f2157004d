"""Write the course notebooks from their readable sources in ``notebooks/src/``.

    python notebooks/build.py                     # write notebooks/*.ipynb (no outputs)
    python -m fusionx_lite.course --in-place      # then execute them and keep the outputs

A source is a Python file in the "percent" format: ``# %%`` starts a code cell,
``# %% [markdown]`` a markdown cell whose lines start with ``# ``, and
``# %% tags=["parameters"]`` a code cell with tags. ``{{badges}}`` in a markdown cell
becomes the Colab and Binder badges of the notebook.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
REPO = "fusionx-lite/fusionx-lite"
GPU_NOTEBOOKS = {"04_pretrain"}  # Colab opens these with a GPU runtime
HEADER = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
LANGUAGE_INFO = {
    "name": "python",
    "version": "3.11",
    "mimetype": "text/x-python",
    "file_extension": ".py",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def badges(name: str) -> str:
    """Markdown for the Colab and Binder badges of notebook ``name``."""
    colab = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{name}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{REPO}/HEAD?labpath=notebooks%2F{name}.ipynb"
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})\n"
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


def parse(text: str) -> list[tuple[str, list[str], str]]:
    """Cells of a percent-format source as ``(kind, tags, source)``."""
    cells: list[tuple[str, list[str], list[str]]] = []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            kind = "markdown" if match["markdown"] else "code"
            cells.append((kind, json.loads(match["tags"]) if match["tags"] else [], []))
        elif cells:
            cells[-1][2].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
    out = []
    for kind, tags, lines in cells:
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        out.append((kind, tags, "\n".join(lines).strip("\n")))
    return out


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook of one source file, with metadata for papermill, Colab and Binder."""
    name = source.stem
    nb = nbformat.v4.new_notebook()
    for kind, tags, text in parse(source.read_text()):
        text = text.replace("{{badges}}", badges(name))
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = new(text)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.metadata["colab"] = {"provenance": [], "toc_visible": True}
    if name in GPU_NOTEBOOKS:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"]["gpuType"] = "T4"
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids keep diffs small
    nbformat.validate(nb)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the .ipynb files")
    args = parser.parse_args(argv)
    sources = sorted((HERE / "src").glob("[0-9][0-9]_*.py"))
    if args.names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in args.names)]
    for source in sources:
        path = args.out / f"{source.stem}.ipynb"
        nbformat.write(build(source), path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
