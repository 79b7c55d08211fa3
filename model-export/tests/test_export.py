"""Exporting the tiny preset: files, manifest and checksums, graph interfaces, dtypes, external data."""

import json

import numpy as np
import onnx
import pytest

from shoplens_export import bundle, export
from shoplens_export.errors import ExportError
from shoplens_export.runtime import BundleRunner

from conftest import COMMITTED_BUNDLE


def test_should_write_every_bundle_file_with_matching_checksums(tiny_bundle):
    manifest = bundle.load_manifest(tiny_bundle)

    assert sorted(manifest["files"]) == ["decoder.onnx", "embed.onnx", "tokenizer.json", "vision.onnx"]
    assert manifest["architecture"] == "blip2-opt" and manifest["dtype"] == "float32"
    assert manifest["num_query_tokens"] == 10
    assert manifest["tokens"] == {"image_token_id": 599, "bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
                                  "stop_token_ids": [2, 412]}
    assert manifest["vision"]["image_size"] == 30 and manifest["vision"]["resample"] == "bicubic"
    assert manifest["exporter"]["onnx_opset"] == 18 and manifest["exporter"]["transformers"] == "5.17.0"


def test_should_reject_bundle_whose_file_was_modified(tiny_bundle, tmp_path):
    for f in tiny_bundle.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace("<image>", "<imagf>"))

    with pytest.raises(ExportError, match="sha256"):
        bundle.load_manifest(tmp_path)


def test_should_reproduce_committed_fixture_bundle_byte_for_byte(tiny_bundle):
    # The committed Java fixture must be what the exporter writes today (regenerate it otherwise).
    fresh = json.loads((tiny_bundle / "manifest.json").read_text())
    committed = json.loads((COMMITTED_BUNDLE / "manifest.json").read_text())

    assert fresh["files"] == committed["files"]
    assert fresh["model_version"] == committed["model_version"]


def test_should_name_graph_inputs_and_outputs_as_the_contract_says(tiny_bundle):
    decoder = onnx.load(str(tiny_bundle / "decoder.onnx"))
    vision = onnx.load(str(tiny_bundle / "vision.onnx"))
    embed = onnx.load(str(tiny_bundle / "embed.onnx"))

    assert [i.name for i in decoder.graph.input] == [
        "inputs_embeds", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value",
        "past_key_values.1.key", "past_key_values.1.value"]
    assert [o.name for o in decoder.graph.output] == [
        "logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"]
    assert [i.name for i in vision.graph.input] == ["pixel_values"]
    assert [o.name for o in vision.graph.output] == ["query_embeds", "image_embeds"]
    assert [i.name for i in embed.graph.input] == ["input_ids"] and embed.graph.output[0].name == "inputs_embeds"
    assert {o.version for o in decoder.opset_import if o.domain in ("", "ai.onnx")} == {18}


def test_should_serve_prefill_with_zero_length_past_and_match_one_token_at_a_time(tiny_bundle):
    # Given a prompt run in one prefill step (P = 0)
    runner = BundleRunner(tiny_bundle)
    rng = np.random.default_rng(0)
    embeds = rng.normal(size=(2, 5, 16)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 0, 0, 1, 1]])
    positions = runner.prefill_positions(mask)
    all_at_once, present = runner.step(embeds, mask, positions, runner.empty_past(2))

    # When the same prompt is fed one token per step through the cache
    past = runner.empty_past(2)
    for t in range(5):
        logits, past = runner.step(embeds[:, t:t + 1], mask[:, :t + 1], positions[:, t:t + 1], past)
        # Then every real position gets the logits of a prefill of the prompt up to it (format 2
        # returns the last position only), and the cache has grown by one each step
        prefix, _ = runner.step(embeds[:, :t + 1], mask[:, :t + 1], positions[:, :t + 1], runner.empty_past(2))
        real = mask[:, t] == 1
        np.testing.assert_allclose(logits[real, 0], prefix[real, 0], atol=1e-5)
        assert past[0].shape == (2, 4, t + 1, 4)
    np.testing.assert_allclose(logits[:, 0], all_at_once[:, 0], atol=1e-5)
    np.testing.assert_allclose(past[3], present[3], atol=1e-6)


def test_should_return_logits_of_the_last_position_only(tiny_bundle):
    # Given a bundle of format 2 and a prefill of 5 positions
    runner = BundleRunner(tiny_bundle)
    embeds = np.random.default_rng(1).normal(size=(3, 5, 16)).astype(np.float32)
    mask = np.ones((3, 5), np.int64)

    # When the decoder runs
    logits, present = runner.step(embeds, mask, runner.prefill_positions(mask), runner.empty_past(3))

    # Then logits are [B, 1, V] while the cache holds every position
    assert runner.manifest["format_version"] == 2
    assert logits.shape == (3, 1, 600)
    assert present[0].shape == (3, 4, 5, 4)


def test_should_refuse_a_format_1_bundle_with_how_to_re_export(tmp_path):
    # Given a bundle whose manifest says format 1 (its decoder returned logits for every position)
    import shutil

    shutil.copytree(COMMITTED_BUNDLE, tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    manifest["format_version"] = 1
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))

    # When it is loaded, Then the error says what to do
    with pytest.raises(ExportError, match="format_version 1, expected 2; re-export"):
        bundle.load_manifest(tmp_path / "b")


def test_should_write_external_data_files_when_asked(tiny_source, tmp_path):
    model, _, tokenizer_json, info = tiny_source

    manifest = export.export_model(model, tokenizer_json, info, tmp_path, external_data=True)

    assert {"vision.onnx.data", "embed.onnx.data", "decoder.onnx.data"} <= set(manifest["files"])
    # The weights moved out: the graph file is a fraction of the self-contained one.
    assert (tmp_path / "decoder.onnx").stat().st_size < (COMMITTED_BUNDLE / "decoder.onnx").stat().st_size / 3
    runner = BundleRunner(tmp_path)
    query = runner.query_embeds(np.zeros((1, 3, 30, 30), np.float32))
    assert query.shape == (1, 10, 16)


def test_should_export_float16_bundle_that_loads_and_runs(tiny_source, tmp_path, reference):
    model, _, tokenizer_json, info = tiny_source

    manifest = export.export_model(model, tokenizer_json, info, tmp_path, dtype="float16")

    assert manifest["dtype"] == "float16"
    runner = BundleRunner(tmp_path)
    case = next(c for c in reference["cases"] if c["name"] == "vqa_photo")
    from conftest import pixel_values

    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])
    logits, present, _ = runner.prefill(ids, mask, pixel_values(reference, case["images"]))
    assert present[0].dtype == np.float16
    assert np.isfinite(logits).all()
    # Half precision moves logits a little, not the greedy choice of this clear first step.
    assert int(np.argmax(logits[0])) == case["new_tokens"][0][0]


def test_should_not_modify_the_source_model_when_exporting_float16(tiny_source, tmp_path):
    import torch

    model, _, tokenizer_json, info = tiny_source
    export.export_model(model, tokenizer_json, info, tmp_path, dtype="float16")

    assert all(p.dtype == torch.float32 for p in model.parameters())
