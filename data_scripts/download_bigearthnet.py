"""Download BigEarthNet v1 or v2 into a torchgeo root, resumably.

Usage::

    python data_scripts/download_bigearthnet.py --version 2 --root data/bigearthnet-v2
    python data_scripts/download_bigearthnet.py --version 1 --root data/bigearthnet --dry-run

What it does:

1. takes the file list, URLs and checksums from torchgeo's own ``BigEarthNet`` /
   ``BigEarthNetV2`` classes (so they stay in step with torchgeo);
2. asks the server for each file's size and checks the free disk space for the
   downloads plus their extraction (``--extract-factor``) before writing anything;
3. downloads each file to ``<name>.part`` with a progress bar, resuming an interrupted
   file where it stopped (HTTP Range; torchgeo's ``download_url`` would restart it);
   ``--no-resume`` uses torchgeo's ``download_url`` instead;
4. verifies each file's MD5 or SHA-256 and keeps a ``<name>.ok`` marker, so a rerun
   skips finished files;
5. extracts the archives with torchgeo's ``extract_archive`` (v2 parts are joined
   first, as torchgeo does) into the layout ``build_dataset`` reads.

A network error stops with a plain message (exit code 2); partial files are kept for
the next run. Sizes: v1 is about 120 GB to download, v2 tens of GB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20  # 1 MiB
EXIT_OFFLINE, EXIT_DISK, EXIT_CHECKSUM = 2, 3, 4
USER_AGENT = "fusionx-lite (torchgeo metadata)"


@dataclass
class RemoteFile:
    url: str
    filename: str
    checksum: str | None  # hex digest; md5 (32 hex digits) or sha256 (64)
    size: int | None = None  # bytes, from the server


class OfflineError(RuntimeError):
    """The server could not be reached."""


class DownloadError(RuntimeError):
    """The server answered, but not with the file (HTTP error)."""


def remote_files(version: int) -> list[RemoteFile]:
    """The files of BigEarthNet v1 or v2 as torchgeo lists them."""
    from torchgeo.datasets import BigEarthNet, BigEarthNetV2

    if version == 1:
        entries = [*BigEarthNet.metadata.values(), *BigEarthNet.splits_metadata.values()]
        return [RemoteFile(e["url"], e["filename"], e.get("md5")) for e in entries]
    return [
        RemoteFile(BigEarthNetV2.url.format(name), name, digest)
        for meta in BigEarthNetV2.metadata_locs.values()
        for name, digest in meta["files"].items()
    ]


def _open(url: str, start: int = 0, method: str = "GET"):
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        return urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url} answered HTTP {err.code} {err.reason}") from err
    except (TimeoutError, urllib.error.URLError, ConnectionError) as err:
        host = urllib.request.urlparse(url).netloc
        raise OfflineError(f"cannot reach {host} ({err})") from err


def probe_sizes(files: list[RemoteFile]) -> None:
    """Fill in each file's size with a HEAD request (raises OfflineError when offline)."""
    for f in files:
        with _open(f.url, method="HEAD") as response:
            length = response.headers.get("Content-Length")
            f.size = int(length) if length else None


def check_disk(root: Path, files: list[RemoteFile], extract_factor: float) -> tuple[int, int]:
    """Bytes still needed (downloads + extraction) and bytes free on the root's disk."""
    need = 0
    for f in files:
        if f.size is None or (root / (f.filename + ".ok")).exists():
            continue
        part = root / (f.filename + ".part")
        need += f.size - (part.stat().st_size if part.exists() else 0)
        if not f.filename.endswith((".csv", ".parquet")):
            need += int(f.size * extract_factor)
    root.mkdir(parents=True, exist_ok=True)
    return need, shutil.disk_usage(root).free


def verify(path: Path, checksum: str | None) -> bool:
    """Whether a file's MD5 or SHA-256 (chosen by the digest length) matches."""
    if checksum is None:
        return True
    digest = hashlib.md5(usedforsecurity=False) if len(checksum) == 32 else hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == checksum


def fetch(f: RemoteFile, part: Path) -> None:
    """Append the missing bytes of ``f`` to ``part`` (HTTP Range), with a progress bar."""
    from tqdm.auto import tqdm

    start = part.stat().st_size if part.exists() else 0
    if f.size is not None and start >= f.size:
        return  # complete already: only the checksum is left to check
    with _open(f.url, start) as response:
        if start and response.status != 206:  # the server ignored Range: start again
            start = 0
        with (
            open(part, "ab" if start else "wb") as out,
            tqdm(total=f.size, initial=start, unit="B", unit_scale=True, desc=f.filename) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))


def download(f: RemoteFile, root: Path, resume: bool = True) -> Path:
    """Download one file into ``root`` (resuming a ``.part`` file) and verify it.

    Raises:
        ValueError: if the checksum does not match (the bad file is removed).
    """
    target, ok = root / f.filename, root / (f.filename + ".ok")
    if ok.exists() and target.exists():
        return target
    if resume:
        part = root / (f.filename + ".part")
        fetch(f, part)
        if not verify(part, f.checksum):
            part.unlink()
            raise ValueError(f"checksum mismatch for {f.filename}; the bad file was removed, rerun")
        os.replace(part, target)
    else:  # torchgeo's downloader: verifies too, but restarts an interrupted file
        from torchgeo.datasets.utils import download_url

        kind = "md5" if f.checksum is None or len(f.checksum) == 32 else "sha256"
        download_url(f.url, str(root), filename=f.filename, **{kind: f.checksum})
    ok.touch()
    return target


def extract(version: int, root: Path, files: list[RemoteFile]) -> None:
    """Unpack the archives as torchgeo would (v2: join the parts of each archive first)."""
    from torchgeo.datasets.utils import extract_archive

    if version == 1:
        for f in files:
            if f.filename.endswith(".tar.gz"):
                print(f"extracting {f.filename} ...")
                extract_archive(str(root / f.filename), str(root))
        return
    groups: dict[str, list[str]] = {}
    for f in files:
        if ".tar.gz" in f.filename:
            groups.setdefault(f.filename.split(".tar.gz")[0], []).append(f.filename)
    for stem, parts in groups.items():
        joined = root / f"{stem}.tar.gz"
        print(f"joining and extracting {stem} ...")
        with open(joined, "wb") as out:
            for name in sorted(parts):
                with open(root / name, "rb") as fh:
                    shutil.copyfileobj(fh, out, CHUNK)
        extract_archive(str(joined), str(root))
        joined.unlink()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])  # fmt: skip
    p.add_argument("--version", type=int, choices=(1, 2), required=True, help="BigEarthNet version")
    p.add_argument("--root", type=Path, required=True, help="folder to download into")
    p.add_argument(
        "--extract-factor",
        type=float,
        default=1.5,
        help="room to reserve for extraction, as a multiple of the archive size "
        "(default 1.5: a margin, GeoTIFFs compress little in .tar.gz)",
    )
    p.add_argument("--no-extract", action="store_true", help="download and verify only")
    p.add_argument("--no-resume", action="store_true", help="use torchgeo's download_url")
    p.add_argument("--dry-run", action="store_true", help="print sizes and disk check, then stop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root: Path = args.root
    files = remote_files(args.version)
    try:
        probe_sizes(files)
        factor = 0.0 if args.no_extract else args.extract_factor
        need, free = check_disk(root, files, factor)
        print(f"BigEarthNet v{args.version}: {len(files)} files, {need / 1e9:.1f} GB still "
              f"needed (downloads + extraction), {free / 1e9:.1f} GB free in {root}")  # fmt: skip
        if need > free:
            print(f"error: not enough disk space in {root}: need {need / 1e9:.1f} GB, "
                  f"have {free / 1e9:.1f} GB. Free some space or pick another --root.",
                  file=sys.stderr)  # fmt: skip
            return EXIT_DISK
        if args.dry_run:
            return 0
        for f in files:
            download(f, root, resume=not args.no_resume)
    except OfflineError as err:
        print(f"error: the network is unreachable: {err}.\nCheck your connection (on Colab, "
              "the runtime must be connected); files already downloaded are kept, and "
              "rerunning the same command resumes.", file=sys.stderr)  # fmt: skip
        return EXIT_OFFLINE
    except DownloadError as err:
        print(f"error: download failed: {err}", file=sys.stderr)
        return EXIT_OFFLINE
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CHECKSUM
    if not args.no_extract:
        extract(args.version, root, files)
        source = "bigearthnet" if args.version == 1 else "bigearthnet-v2"
        print(f"ready: build_dataset({source!r}, root={str(root)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
