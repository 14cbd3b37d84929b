from __future__ import annotations

import os

import pytest
import torch

from cir_models import UnsafeCheckpointError, load_state_dict, save_state_dict, strip_prefix


def _state() -> dict[str, torch.Tensor]:
    return {"a.weight": torch.arange(6.0).reshape(2, 3), "b": torch.tensor([1, 2, 3])}


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".bin"])
def test_round_trip(tmp_path, suffix):
    path = save_state_dict(_state(), tmp_path / f"w{suffix}")
    loaded = load_state_dict(path)
    assert loaded.keys() == _state().keys()
    for key, value in _state().items():
        assert torch.equal(loaded[key], value)


def test_default_format_is_safetensors(tmp_path):
    path = save_state_dict(_state(), tmp_path / "w.safetensors")
    assert path.read_bytes()[8:9] == b"{"  # safetensors: 8-byte header length, then a JSON header


def test_container_is_unwrapped(tmp_path):
    path = tmp_path / "phi_best.pt"
    torch.save({"epoch": 7, "Phi": _state()}, path)  # LinCIR's layout
    assert torch.equal(load_state_dict(path)["a.weight"], _state()["a.weight"])
    assert torch.equal(load_state_dict(path, key="Phi")["b"], _state()["b"])


def test_ambiguous_container_names_its_keys(tmp_path):
    path = tmp_path / "two.pt"
    torch.save({"epoch": 1, "something": _state()}, path)
    with pytest.raises(ValueError, match=r"two\.pt.*something"):
        load_state_dict(path)


def test_strip_prefix():
    state = {"module.x": torch.zeros(1), "y": torch.ones(1)}
    assert set(strip_prefix(state)) == {"x", "y"}


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "payload": _Evil(str(marker))}, path)
    assert not marker.exists()
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pt"):
        load_state_dict(path)
    assert not marker.exists()


def test_unknown_suffix_and_missing_file(tmp_path):
    other = tmp_path / "w.npz"
    other.write_bytes(b"")
    with pytest.raises(ValueError, match=r"w\.npz"):
        load_state_dict(other)
    with pytest.raises(FileNotFoundError, match="absent"):
        load_state_dict(tmp_path / "absent.pt")
