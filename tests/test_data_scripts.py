"""data_scripts: help, offline and disk-space errors, resume, checksums, extraction,
subset building and split making, all without the network."""

import hashlib
import importlib.util
import io
import subprocess
import sys
import tarfile
import urllib.error
from pathlib import Path

import pytest
import torch
from fakedata import write_bigearthnet_v1

from fusionx_lite.data import build_dataset, load_splits

SCRIPTS = Path(__file__).resolve().parents[1] / "data_scripts"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def dl():
    return load_script("download_bigearthnet")


class FakeResponse(io.BytesIO):
    def __init__(self, body, status=200, length=None):
        super().__init__(body)
        self.status = status
        self.headers = {"Content-Length": str(len(body) if length is None else length)}


class FakeServer:
    """Serves fixed files over a fake urlopen, honouring Range like zenodo does."""

    def __init__(self, files):
        self.files, self.requests = files, []

    def __call__(self, request, timeout=None):
        name = request.full_url.rsplit("/", 1)[-1]
        body = self.files[name]
        self.requests.append((request.get_method(), name, request.headers.get("Range")))
        if request.get_method() == "HEAD":
            return FakeResponse(b"", length=len(body))
        start = int(request.headers.get("Range", "bytes=0-")[6:-1])
        return FakeResponse(body[start:], status=206 if start else 200)


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("script", ["download_bigearthnet", "build_subset", "make_splits"])
def test_every_script_has_help(script):
    out = subprocess.run([sys.executable, str(SCRIPTS / f"{script}.py"), "--help"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0 and "usage:" in out.stdout


@pytest.mark.parametrize("version", [1, 2])
def test_file_list_comes_from_torchgeo(dl, version):
    files = dl.remote_files(version)
    assert all(f.url.startswith("https://") and f.checksum for f in files)
    names = {f.filename for f in files}
    expected = "bigearthnet-train.csv" if version == 1 else "metadata.parquet"
    assert expected in names


def test_offline_gives_a_clear_message(dl, monkeypatch, tmp_path, capsys):
    def unreachable(request, timeout=None):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(dl.urllib.request, "urlopen", unreachable)
    assert dl.main(["--version", "2", "--root", str(tmp_path)]) == dl.EXIT_OFFLINE
    err = capsys.readouterr().err
    assert "network is unreachable" in err and "hf.co" in err and "resumes" in err


def test_not_enough_disk_space_stops_before_downloading(dl, monkeypatch, tmp_path, capsys):
    server = FakeServer({"big.tar.gz": b"x" * 1000})
    monkeypatch.setattr(dl.urllib.request, "urlopen", server)
    monkeypatch.setattr(
        dl, "remote_files", lambda v: [dl.RemoteFile("https://h/big.tar.gz", "big.tar.gz", None)]
    )
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: type("U", (), {"free": 2000})())
    assert dl.main(["--version", "1", "--root", str(tmp_path)]) == dl.EXIT_DISK
    assert "not enough disk space" in capsys.readouterr().err  # needs 1000 + 1.5 x 1000
    assert [m for m, _, _ in server.requests] == ["HEAD"]  # nothing was downloaded
    assert dl.main(["--version", "1", "--root", str(tmp_path), "--no-extract", "--dry-run"]) == 0


def test_interrupted_download_resumes_and_is_verified(dl, monkeypatch, tmp_path):
    body = bytes(range(256)) * 40
    server = FakeServer({"a.bin": body})
    monkeypatch.setattr(dl.urllib.request, "urlopen", server)
    (tmp_path / "a.bin.part").write_bytes(body[:3000])  # what an interrupted run left
    f = dl.RemoteFile("https://h/a.bin", "a.bin", md5(body), size=len(body))
    assert dl.download(f, tmp_path).read_bytes() == body
    assert server.requests == [("GET", "a.bin", "bytes=3000-")]
    assert (tmp_path / "a.bin.ok").exists() and not (tmp_path / "a.bin.part").exists()
    dl.download(f, tmp_path)  # finished files are skipped
    assert len(server.requests) == 1


def test_checksum_mismatch_removes_the_file(dl, monkeypatch, tmp_path):
    monkeypatch.setattr(dl.urllib.request, "urlopen", FakeServer({"a.bin": b"corrupt"}))
    f = dl.RemoteFile("https://h/a.bin", "a.bin", "0" * 64, size=7)  # a sha256 that won't match
    with pytest.raises(ValueError, match="checksum mismatch"):
        dl.download(f, tmp_path)
    assert not any(tmp_path.iterdir())


def test_v2_parts_are_joined_downloaded_and_extracted(dl, monkeypatch, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"fake tif"
        info = tarfile.TarInfo("BigEarthNet-S1/tile/patch/patch_VV.tif")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    parts = {"BigEarthNet-S1.tar.gzaa": archive[:100], "BigEarthNet-S1.tar.gzab": archive[100:],
             "metadata.parquet": b"PAR1"}  # fmt: skip
    files = [dl.RemoteFile(f"https://h/{n}", n, md5(b)) for n, b in parts.items()]
    monkeypatch.setattr(dl.urllib.request, "urlopen", FakeServer(parts))
    monkeypatch.setattr(dl, "remote_files", lambda v: files)
    assert dl.main(["--version", "2", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "BigEarthNet-S1/tile/patch/patch_VV.tif").read_bytes() == b"fake tif"
    assert (tmp_path / "metadata.parquet").read_bytes() == b"PAR1"


def test_subset_builder_and_split_maker_on_a_fake_root(tmp_path, capsys):
    root, out = tmp_path / "ben", tmp_path / "subset"
    root.mkdir()
    write_bigearthnet_v1(root)
    build = load_script("build_subset")
    args = ["--source", "bigearthnet", "--root", str(root), "--out", str(out), "--img-size", "64"]
    assert build.main(args) == 0
    direct = build_dataset("bigearthnet", root=root, split="train", img_size=64)
    compact = build_dataset("subset", root=out, split="train", img_size=64)
    assert len(compact) == len(direct) == 2 and compact.class_names == direct.class_names
    a, b = compact[1], direct[1]
    torch.testing.assert_close(a["sar"], b["sar"], atol=2e-3, rtol=2e-3)  # float16 storage
    torch.testing.assert_close(a["optical"], b["optical"], atol=2e-3, rtol=2e-3)
    assert torch.equal(a["label"], b["label"]) and a["crs"] == b["crs"]
    assert torch.equal(a["bounds"], b["bounds"])
    small = build_dataset("subset", root=out, split="train", img_size=32)[1]
    assert torch.equal(small["sar"], a["sar"][:, 16:48, 16:48])
    assert torch.equal(
        small["bounds"], build_dataset("bigearthnet", root=root, img_size=32)[1]["bounds"]
    )
    with pytest.raises(ValueError, match="img_size must be <= 64"):
        build_dataset("subset", root=out, img_size=96)
    with pytest.raises(FileNotFoundError, match="build_subset.py"):
        build_dataset("subset", root=tmp_path / "none")

    splits = load_script("make_splits")
    path = tmp_path / "splits.json"
    args = ["--source", "subset", "--root", str(out), "--out", str(path), "--fractions", "0.5", "1"]
    assert splits.main(args) == 0
    loaded = load_splits(path)
    assert set(loaded) == {0, 1, 2} and set(loaded[0][0.5]) <= set(loaded[0][1.0])
    assert splits.main(["--source", "subset", "--out", str(path)]) == 2
