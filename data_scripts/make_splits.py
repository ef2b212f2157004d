"""Write seeded low-label splits (1, 5, 10, 25, 100 % by default) of a labelled split.

Usage::

    python data_scripts/make_splits.py --source subset --root data/subset --split train \\
        --out data/subset/label_splits.json

The file maps seed -> fraction -> sample indices into that split; for one seed the
smaller sets are inside the larger ones and every class with a positive example is
represented as soon as the set has room. Read it back with
``fusionx_lite.data.load_splits(path)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SOURCES = ("synthetic", "bundled", "bigearthnet", "bigearthnet-v2", "subset")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])  # fmt: skip
    p.add_argument("--source", choices=SOURCES, required=True, help="what to read")
    p.add_argument("--root", type=Path, help="dataset root or subset folder")
    p.add_argument("--split", default="train", help="the labelled split (default train)")
    p.add_argument("--length", type=int, help="synthetic: number of samples")
    p.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.05, 0.10, 0.25, 1.0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.source in ("bigearthnet", "bigearthnet-v2", "subset") and args.root is None:
        print(f"error: --root is required for --source {args.source}", file=sys.stderr)
        return 2
    from fusionx_lite.data import build_dataset, make_splits, save_splits
    from fusionx_lite.data.splits import dataset_labels
    from fusionx_lite.data.subset import load_subset

    try:
        if args.source == "subset":  # labels only: keep the stored image size
            dataset = load_subset(args.root, args.split, length=args.length)
        else:
            dataset = build_dataset(args.source, split=args.split, root=args.root,
                                    length=args.length)  # fmt: skip
        labels = dataset_labels(dataset)
        splits = make_splits(labels, fractions=args.fractions, seeds=args.seeds)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_splits(splits, args.out)
    first = splits[args.seeds[0]]
    for fraction, idx in first.items():
        covered = int((labels[idx].sum(0) > 0).sum())
        print(f"{fraction:>6.0%}: {len(idx):>7} samples, {covered}/{labels.shape[1]} classes")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
