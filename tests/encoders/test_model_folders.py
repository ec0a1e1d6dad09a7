"""A model folder whose weights are a pickle is refused in one line before anything is unpickled (the audit's
B50: torch refused it too, but with a traceback that suggests turning its safety off)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from authorid.model import ModelError, load_model


class Payload:
    """Unpickling this would create a file; the test checks it never exists."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickled_pytorch_model_bin_is_refused_and_never_unpickled(tmp_path):
    folder = tmp_path / "model"
    load_model("minilm").encoder.save(str(folder))
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "payload-ran"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(
        ModelError, match=r"pytorch_model\.bin: weights as a pickle, which authorid never loads"
    ):
        load_model(str(folder))
    assert not marker.exists()
    shutil.rmtree(folder)
