"""One vision tower for generation and retrieval: the checksum both manifests carry, the generation
vision graph's tower output, the retrieval bundle's image_features.onnx, and `--vision-from`."""

import json

import numpy as np
import onnxruntime as ort
import pytest

from conftest import COMMITTED_BUNDLE, RESOURCES, pixel_values
from shoplens_export import cli, retrieval, vision_tower

COMMITTED_RETRIEVAL = RESOURCES / "models" / retrieval.BUNDLE_NAME
TOL = 1e-5


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _manifest(d):
    return json.loads((d / "manifest.json").read_text())


def test_given_generation_and_retrieval_with_one_tower_then_features_via_generation_equal_retrieval_own(reference):
    # Given the committed tiny generation bundle and the retrieval bundle with the same tower checksum
    gen, ret = _manifest(COMMITTED_BUNDLE), _manifest(COMMITTED_RETRIEVAL)
    assert gen["vision_tower"]["sha256"] == ret["vision_tower"]["sha256"] == ret["retrieval"]["vision_tower_sha256"]
    pv = pixel_values(reference, ["photo.jpg", "alpha.png", "wide.png"])

    # When the generation vision pass's image_embeds go through the retrieval image_features.onnx
    query_embeds, image_embeds = _session(COMMITTED_BUNDLE / "vision.onnx").run(None, {"pixel_values": pv})
    (shared,) = _session(COMMITTED_RETRIEVAL / "image_features.onnx").run(None, {"image_embeds": image_embeds})

    # Then they equal the retrieval bundle's own vision pass, and query_embeds are still output 0
    own_embeds, own = _session(COMMITTED_RETRIEVAL / "vision.onnx").run(None, {"pixel_values": pv})
    np.testing.assert_allclose(shared, own, atol=TOL)
    np.testing.assert_allclose(image_embeds, own_embeds, atol=TOL)
    assert query_embeds.shape == (3, gen["num_query_tokens"], gen["text"]["hidden_size"])
    assert image_embeds.shape[1:] == (gen["vision_tower"]["num_patches"], gen["vision_tower"]["hidden_size"])


def test_given_generation_export_then_manifest_describes_its_tower(tiny_bundle, tiny_source):
    model = tiny_source[0]
    tower = _manifest(tiny_bundle)["vision_tower"]
    cfg = model.config.vision_config
    assert tower == {
        "sha256": vision_tower.sha256(model), "output": "image_embeds", "precision": "float32",
        "image_size": cfg.image_size, "patch_size": cfg.patch_size,
        "num_patches": (cfg.image_size // cfg.patch_size) ** 2 + 1, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "num_layers": cfg.num_hidden_layers,
    }


def test_given_float16_or_int8_export_then_same_checksum_at_its_own_precision(tiny_source, tmp_path):
    from shoplens_export import export

    model, _, tokenizer_json, info = tiny_source
    f16 = export.export_model(model, tokenizer_json, info, tmp_path / "f16", dtype="float16")["vision_tower"]
    q8 = export.export_model(model, tokenizer_json, info, tmp_path / "q8", quantize="int8")["vision_tower"]
    assert f16["sha256"] == q8["sha256"] == vision_tower.sha256(model)
    assert (f16["precision"], q8["precision"]) == ("float16", "int8-dynamic")


def test_given_t5_export_then_vision_graph_exposes_the_tower_too(tmp_path):
    from shoplens_export import presets_t5

    rc = cli.main(["export", "--preset", "tiny-t5", "--out", str(tmp_path / "t5")])
    assert rc == 0
    manifest = _manifest(tmp_path / "t5")
    model = presets_t5.source(1234)[0]
    assert manifest["vision_tower"]["sha256"] == vision_tower.sha256(model)
    names = [o.name for o in _session(tmp_path / "t5" / "vision.onnx").get_outputs()]
    assert names == ["query_embeds", "image_embeds"]


def test_given_other_seed_when_vision_from_generation_preset_then_tower_checksum_is_the_generations(tmp_path):
    # Given a retrieval preset whose own tower differs from the tiny generation preset's
    rc = cli.main(["export", "--retrieval", "--preset", "tiny", "--seed", "4321", "--out", str(tmp_path / "own")])
    assert rc == 0
    own = _manifest(tmp_path / "own")["vision_tower"]["sha256"]
    generation = _manifest(COMMITTED_BUNDLE)["vision_tower"]["sha256"]
    assert own != generation

    # When it is exported with --vision-from the generation preset
    rc = cli.main(["export", "--retrieval", "--preset", "tiny", "--seed", "4321", "--vision-from", "tiny",
                   "--out", str(tmp_path / "shared")])

    # Then its tower checksum is the generation bundle's, and the manifest names where it came from
    assert rc == 0
    shared = _manifest(tmp_path / "shared")
    assert shared["vision_tower"]["sha256"] == shared["retrieval"]["vision_tower_sha256"] == generation
    assert shared["vision_tower"]["copied_from"] == "tiny"


def test_given_vision_from_generation_preset_of_other_image_size_then_one_line_error(tmp_path, capsys):
    rc = cli.main(["export", "--retrieval", "--preset", "tiny", "--vision-from", "bench", "--out", str(tmp_path / "b")])
    assert rc == 2
    assert "--vision-from bench: it preprocesses images differently (image_size 224 there, 30 here" in \
        capsys.readouterr().err


def test_given_vision_from_without_retrieval_then_refused(tmp_path, capsys):
    rc = cli.main(["export", "--preset", "tiny", "--vision-from", "tiny", "--out", str(tmp_path / "g")])
    assert rc == 2
    assert "--vision-from only applies to --retrieval" in capsys.readouterr().err


def test_given_towers_of_other_shapes_when_copied_then_refused():
    from shoplens_export import presets
    from shoplens_export.errors import ExportError

    target, _, _ = retrieval.build(retrieval.TINY)
    bench = presets.source(presets.get("bench"), 1)[0]
    with pytest.raises(ExportError, match="the vision towers differ in their weights"):
        vision_tower.copy_into(target, bench)
