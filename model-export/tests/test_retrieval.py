"""The retrieval exporter: ONNX Runtime on the exported graphs against Hugging Face's
Blip2ForImageTextRetrieval on the same weights, and the committed Java fixtures."""

import json

import numpy as np
import pytest
import torch

from conftest import RESOURCES
from shoplens_export import bundle, cli, retrieval

COMMITTED = RESOURCES / "models" / retrieval.BUNDLE_NAME
TOL = 1e-5


@pytest.fixture(scope="module")
def tiny_retrieval(tmp_path_factory):
    import transformers

    transformers.logging.set_verbosity_error()
    model, tokenizer, ip = retrieval.build(retrieval.TINY)
    out = tmp_path_factory.mktemp("tiny-retrieval")
    manifest = retrieval.export_retrieval(model, tokenizer, ip, out, model_id="t", name="t", preset="tiny", seed=1)
    return model, tokenizer, ip, out, manifest


def test_given_tiny_preset_when_exported_then_ort_matches_hugging_face(tiny_retrieval):
    model, tokenizer, ip, out, _ = tiny_retrieval
    ref = retrieval.hf_reference(model, tokenizer, ip, RESOURCES / "images")
    from PIL import Image

    pv = ip([Image.open(RESOURCES / "images" / n) for n in retrieval.REFERENCE_IMAGES], return_tensors="np")
    enc = tokenizer(retrieval.REFERENCE_TEXTS, padding=True, truncation=True, return_tensors="np")
    image_f, text_f, itc, itm_logits = retrieval.ort_outputs(out, pv["pixel_values"].astype(np.float32),
                                                             enc["input_ids"], enc["attention_mask"])
    for i, img in enumerate(ref["images"]):
        np.testing.assert_allclose(image_f[i].flatten(), img["image_features"], atol=TOL)
    for t, txt in enumerate(ref["texts"]):
        np.testing.assert_allclose(text_f[t], txt["text_features"], atol=TOL)
    np.testing.assert_allclose(itc, ref["itc_similarity"], atol=TOL)
    np.testing.assert_allclose(itm_logits, ref["itm_logits"], atol=TOL)
    prob = torch.softmax(torch.from_numpy(itm_logits), dim=-1)[..., 1].numpy()
    np.testing.assert_allclose(prob, ref["itm_probability"], atol=TOL)


def test_given_retrieval_bundle_then_features_are_unit_vectors_and_manifest_is_retrieval(tiny_retrieval):
    _, _, _, out, manifest = tiny_retrieval
    assert manifest["architecture"] == "blip2-retrieval"
    assert set(manifest["files"]) == set(retrieval.FILES)
    assert manifest["retrieval"]["embed_dim"] == retrieval.TINY.embed_dim
    assert manifest["num_query_tokens"] == retrieval.TINY.num_query_tokens
    ref = json.loads((COMMITTED / "reference.json").read_text())
    for img in ref["images"]:
        f = np.asarray(img["image_features"]).reshape(img["image_features_shape"])
        np.testing.assert_allclose(np.linalg.norm(f, axis=-1), 1.0, atol=1e-6)


def test_given_committed_fixture_then_checksums_and_reference_agree_with_manifest():
    manifest = json.loads((COMMITTED / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert bundle.sha256(COMMITTED / name) == entry["sha256"], name
    ref = json.loads((COMMITTED / "reference.json").read_text())
    assert ref["model_version"] == manifest["model_version"]
    assert len(ref["itc_similarity"]) == len(retrieval.REFERENCE_IMAGES)
    # ITC is the max over query vectors of image-query . text feature
    img = np.asarray(ref["images"][0]["image_features"]).reshape(ref["images"][0]["image_features_shape"])
    txt = np.asarray(ref["texts"][0]["text_features"])
    assert abs((img @ txt).max() - ref["itc_similarity"][0][0]) < TOL


def test_given_checkpoint_that_is_not_retrieval_when_exported_then_one_line_error(tmp_path, capsys):
    (tmp_path / "ckpt").mkdir()
    rc = cli.main(["export", "--retrieval", "--checkpoint", str(tmp_path / "ckpt"), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "cannot load a Blip2ForImageTextRetrieval checkpoint" in capsys.readouterr().err


def test_given_retrieval_preset_via_cli_then_bundle_is_written(tmp_path):
    rc = cli.main(["export", "--retrieval", "--preset", "tiny", "--out", str(tmp_path / "b")])
    assert rc == 0
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["architecture"] == "blip2-retrieval"
