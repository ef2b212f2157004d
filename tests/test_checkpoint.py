"""Checkpoints: safe to load, atomic, and refused for another configuration."""

import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE
from fusionx_lite.checkpoint import (
    ConfigMismatchError,
    capture_rng,
    check_same,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
    weights_hash,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _state(model, opt, step=3):
    return {
        "config": model.cfg.to_dict(),
        "train": {"epochs": 2},
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "step": step,
        "rng": capture_rng(),
    }


@pytest.fixture
def trained():
    torch.manual_seed(0)
    model = FusionXMAE(FusionXConfig.tiny())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sar, optical = torch.randn(2, 2, 32, 32), torch.randn(2, 12, 32, 32)
    model(sar, optical, generator=torch.Generator().manual_seed(0)).loss.backward()
    opt.step()
    return model, opt


def test_round_trip_restores_model_optimizer_config_and_step(tmp_path, trained):
    model, opt = trained
    path = save_checkpoint(tmp_path / "ckpt.pt", _state(model, opt))
    state = torch.load(path, weights_only=True)  # no pickled classes inside
    assert state["step"] == 3
    cfg = FusionXConfig.from_dict(state["config"])
    assert cfg == model.cfg
    clone = FusionXMAE(cfg)
    clone.load_state_dict(state["model"])
    assert weights_hash(clone) == weights_hash(model)
    opt2 = torch.optim.AdamW(clone.parameters(), lr=1e-3)
    opt2.load_state_dict(state["optimizer"])
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
        assert torch.equal(opt.state[p]["exp_avg"], opt2.state[q]["exp_avg"])


def test_rng_state_round_trip(tmp_path, trained):
    model, opt = trained
    torch.manual_seed(123)
    save_checkpoint(tmp_path / "ckpt.pt", _state(model, opt))
    expected = torch.rand(5)
    torch.manual_seed(999)
    restore_rng(load_checkpoint(tmp_path / "ckpt.pt")["rng"])
    assert torch.equal(torch.rand(5), expected)


def test_failed_save_keeps_previous_checkpoint_and_leaves_no_temp_file(
    tmp_path, trained, monkeypatch
):

    model, opt = trained
    path = save_checkpoint(tmp_path / "ckpt.pt", _state(model, opt, step=1))

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, _state(model, opt, step=2))
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_foreign_or_missing_file_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a FusionX-Lite checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_different_config_is_refused_with_the_differing_fields():
    saved = FusionXConfig.tiny().to_dict()
    now = FusionXConfig.tiny(strategy="independent", embed_dim=64).to_dict()
    with pytest.raises(ConfigMismatchError, match="embed_dim: checkpoint 32 vs now 64") as err:
        check_same(saved, now, "model config")
    assert "strategy" in str(err.value)
    check_same(saved, FusionXConfig.tiny().to_dict(), "model config")  # same: accepted
    check_same({"device": "cpu"}, {"device": "cuda"}, "training setup", ignore=("device",))


def test_weights_hash_sees_a_single_changed_value(trained):
    model, _ = trained
    before = weights_hash(model)
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-6
    assert weights_hash(model) != before
