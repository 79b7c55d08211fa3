import json
from pathlib import Path

import numpy as np
import pytest

RESOURCES = Path(__file__).resolve().parents[2] / "processor" / "src" / "test" / "resources"
COMMITTED_BUNDLE = RESOURCES / "models" / "tiny-blip2-opt"


@pytest.fixture(scope="session")
def reference():
    return json.loads((COMMITTED_BUNDLE / "reference.json").read_text())


@pytest.fixture(scope="session")
def tiny_source():
    """The tiny preset as (model, processor, tokenizer_json, info), built once per session."""
    import transformers

    from shoplens_export import presets

    transformers.logging.set_verbosity_error()
    return presets.source(presets.TINY)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_source, tmp_path_factory):
    """A fresh float32 export of the tiny preset."""
    from shoplens_export import export

    model, _, tokenizer_json, info = tiny_source
    out = tmp_path_factory.mktemp("tiny-bundle")
    export.export_model(model, tokenizer_json, info, out)
    return out


def pixel_values(reference, names):
    return np.stack([
        np.asarray(reference["images"][n]["pixel_values"], np.float32).reshape(reference["images"][n]["pixel_values_shape"])
        for n in names
    ])
