"""ONNX Runtime running the tiny-t5 bundle's graphs reproduces Hugging Face's generate() on every
reference case (greedy, beam, batched with padding, multi-turn, sampling filters and repetition
penalty); the greedy and beam loops have no repetition penalty, so its cases are checked here as
processed scores and as Hugging Face's own output (the Java engine replays them token for token).

shoplens_export.runtime_t5 uses only the bundle and the rules of docs/model-bundle.md ("BLIP-2
Flan-T5 bundles"), so these tests prove the contract the Java engine implements.
"""

import json

import numpy as np
import pytest
import torch

from shoplens_export.runtime_t5 import T5BundleRunner

from conftest import RESOURCES, pixel_values
from test_parity import _penalised, _warp

T5_BUNDLE = RESOURCES / "models" / "tiny-blip2-t5"


@pytest.fixture(scope="module")
def reference_t5():
    return json.loads((T5_BUNDLE / "reference.json").read_text())


@pytest.fixture(scope="module")
def runner():
    return T5BundleRunner(T5_BUNDLE)


@pytest.fixture(scope="module")
def t5_source():
    import transformers

    from shoplens_export import presets_t5

    transformers.logging.set_verbosity_error()
    return presets_t5.source()


def _kind(case):
    g = case["generation"]
    return "sample" if g.get("do_sample") else ("beam" if g.get("num_beams", 1) > 1 else "greedy")


def _cases(reference, kind, repetition=False):
    """The cases of a kind, with a repetition penalty or (the default) without."""
    return [c for c in reference["cases"]
            if _kind(c) == kind and ("repetition_penalty" in c["generation"]) == repetition]


def test_reference_should_cover_every_kind_of_case(reference_t5):
    assert reference_t5["architecture"] == "blip2-t5"
    assert len(_cases(reference_t5, "greedy")) == 6 and len(_cases(reference_t5, "beam")) == 3
    assert len(_cases(reference_t5, "sample")) == 3
    # The repetition penalty: greedy, beam and sampling, above and below 1, batched with padding
    penalised = [c for c in reference_t5["cases"] if "repetition_penalty" in c["generation"]]
    assert [len(_cases(reference_t5, k, repetition=True)) for k in ("greedy", "beam", "sample")] == [3, 2, 2]
    assert {c["generation"]["repetition_penalty"] < 1 for c in penalised} == {True, False}
    assert any(len(c["images"]) > 1 and 0 in c["attention_mask"][0] + c["attention_mask"][1] for c in penalised
               if _kind(c) == "greedy")
    assert any(c["generation"]["num_return_sequences"] > 1 for c in _cases(reference_t5, "beam", repetition=True))
    batch = next(c for c in reference_t5["cases"] if c["name"] == "batch_padded")
    assert 0 in batch["attention_mask"][1], "the batched case must have right padding"
    # Stopping is exercised: some greedy row and some beam hypothesis stop before max_new_tokens.
    assert any(len(row) < 12 or 155 in row[:-1] for c in _cases(reference_t5, "greedy") for row in c["new_tokens"])
    assert any(155 in row[:-1] for c in _cases(reference_t5, "beam") for row in c["new_tokens"])


@pytest.mark.parametrize("index", range(6))
def test_greedy_loop_should_reproduce_hugging_face_tokens(runner, reference_t5, index):
    case = _cases(reference_t5, "greedy")[index]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])

    sequences = runner.greedy(ids, mask, pixel_values(reference_t5, case["images"]),
                              case["generation"]["max_new_tokens"])

    assert sequences.tolist() == case["sequences"], case["name"]
    assert all(gap > 1e-3 for row in case["step_top2_gaps"] for gap in row)


@pytest.mark.parametrize("index", range(3))
def test_beam_loop_should_reproduce_hugging_face_sequences_and_scores(runner, reference_t5, index):
    case = _cases(reference_t5, "beam")[index]
    g = case["generation"]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])

    sequences, scores = runner.beam_search(ids, mask, pixel_values(reference_t5, case["images"]), g["max_new_tokens"],
                                           g["num_beams"], g["num_return_sequences"], g["length_penalty"])

    assert sequences.tolist() == case["sequences"], case["name"]
    np.testing.assert_allclose(scores, case["sequences_scores"], atol=1e-4)


@pytest.mark.parametrize("index", range(5))
def test_sampling_filters_should_keep_the_tokens_hugging_face_kept(runner, reference_t5, index):
    # Given the prompt and the tokens HF sampled, fed back one step at a time through the graphs
    case = (_cases(reference_t5, "sample") + _cases(reference_t5, "sample", repetition=True))[index]
    g = case["generation"]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])
    logits, past, cross, decoder_mask = runner.first_step(ids, mask, pixel_values(reference_t5, case["images"]))

    for step in case["sampling_steps"]:
        # Then the graphs' logits are HF's raw logits, and filtering them keeps exactly HF's tokens.
        # The tiny model's wide initialisation gives logits of magnitude ~45, whose float32 noise
        # (summation order, ORT vs torch) reaches 2e-3: the tolerance scales with them.
        raw = np.asarray(step["raw_logits"], np.float32)
        np.testing.assert_allclose(logits[0], raw, atol=1e-4 * np.abs(raw).max())
        scores = raw
        if "repetition_penalty" in g:
            scores = _penalised(raw, _decoder_ids(case, step["step"]), g["repetition_penalty"])
        warped = _warp(scores, g.get("temperature"), g.get("top_k", 50), g.get("top_p"))
        kept = np.flatnonzero(np.isfinite(warped))
        assert kept.tolist() == [k for k, _ in step["kept"]], (case["name"], step["step"])
        np.testing.assert_allclose(warped[kept], [v for _, v in step["kept"]], rtol=1e-5)
        assert step["sampled"] in kept

        decoder_mask = np.concatenate([decoder_mask, [[1]]], axis=1)
        logits, past = runner.step(np.array([[step["sampled"]]]), decoder_mask, mask, past, cross)


def _decoder_ids(case, step):
    """Hugging Face's decoder input_ids of the case's first row at `step`: the start, then the samples."""
    return [case["decoder_start_token_id"]] + case["new_tokens"][0][:step]


def test_repetition_penalty_should_count_the_decoder_start_and_samples_not_the_encoder_prompt(reference_t5):
    # Given the sampling case without top-k/top-p, whose every processed score is recorded
    case = next(c for c in reference_t5["cases"] if c["name"] == "sample_repetition_penalty")
    penalty = case["generation"]["repetition_penalty"]
    encoder_prompt = set(case["input_ids"][0])

    for step in case["sampling_steps"]:
        # When the penalty is applied to the decoder's ids so far (start token, then samples)
        so_far = _decoder_ids(case, step["step"])
        expected = _penalised(step["raw_logits"], so_far, penalty)

        # Then it gives Hugging Face's processed scores: the start token (= pad, 0) is penalised even
        # though it is never generated, and the encoder prompt's ids are not
        raw = np.array(step["raw_logits"], np.float32)
        recorded = np.array([v for _, v in step["kept"]], np.float32)
        assert len(recorded) == len(raw)
        np.testing.assert_allclose(recorded, expected, rtol=1e-6, atol=1e-6)
        assert recorded[case["decoder_start_token_id"]] != raw[case["decoder_start_token_id"]]
        prompt_only = sorted(encoder_prompt - set(so_far))
        assert prompt_only, "the encoder prompt must have ids the decoder has not seen"
        np.testing.assert_array_equal(recorded[prompt_only], raw[prompt_only])


def test_repetition_cases_should_be_what_hugging_face_generates_and_change_with_the_penalty(t5_source,
                                                                                            reference_t5):
    # A penalised case that generated the same tokens without its penalty could not catch an
    # engine that ignores it: every greedy and beam case must be changed by its penalty.
    from PIL import Image

    model, processor, _, _ = t5_source
    for case in _cases(reference_t5, "greedy", True) + _cases(reference_t5, "beam", True):
        images = [Image.open(RESOURCES / "images" / n) for n in case["images"]]
        inputs = processor(images=images, text=case["prompts"], padding=True, return_tensors="pt")
        assert inputs["input_ids"].tolist() == case["input_ids"]
        plain = {k: v for k, v in case["generation"].items() if k != "repetition_penalty"}
        with torch.no_grad():
            penalised = model.generate(**inputs, **case["generation"])
            unpenalised = model.generate(**inputs, **plain)
        assert penalised.tolist() == case["sequences"], case["name"]
        assert unpenalised.tolist() != case["sequences"], case["name"]


def test_decoder_should_give_the_same_logits_when_a_shorter_row_is_left_padded(runner, reference_t5):
    # A scheduler batches rows whose decoders are at different lengths by left-padding the shorter
    # self-attention KV: the relative position bias must then see token distances, not columns.
    case = next(c for c in reference_t5["cases"] if c["name"] == "vqa_photo")
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])
    logits, past, cross, decoder_mask = runner.first_step(ids, mask, pixel_values(reference_t5, case["images"]))
    tokens = case["new_tokens"][0]
    for t in tokens[:2]:
        decoder_mask = np.concatenate([decoder_mask, [[1]]], axis=1)
        logits, past = runner.step(np.array([[t]]), decoder_mask, mask, past, cross)
    # The same state with two masked columns in front of the KV
    padded_past = [np.concatenate([np.full((1, p.shape[1], 2, p.shape[3]), 7.0, np.float32), p], axis=2) for p in past]
    padded_mask = np.concatenate([[[0, 0]], decoder_mask, [[1]]], axis=1)
    decoder_mask = np.concatenate([decoder_mask, [[1]]], axis=1)

    expected, _ = runner.step(np.array([[tokens[2]]]), decoder_mask, mask, past, cross)
    got, _ = runner.step(np.array([[tokens[2]]]), padded_mask, mask, padded_past, cross)

    np.testing.assert_allclose(got, expected, atol=1e-5 * np.abs(expected).max())


def test_reference_should_still_be_what_hugging_face_generates(t5_source, reference_t5):
    from PIL import Image

    model, processor, _, _ = t5_source
    for name in ("batch_padded", "beam_vqa_photo"):
        case = next(c for c in reference_t5["cases"] if c["name"] == name)
        images = [Image.open(RESOURCES / "images" / n) for n in case["images"]]
        inputs = processor(images=images, text=case["prompts"], padding=True, return_tensors="pt")
        assert inputs["input_ids"].tolist() == case["input_ids"]
        with torch.no_grad():
            out = model.generate(**inputs, **case["generation"])
        assert out.tolist() == case["sequences"], name


def test_tokenizer_should_be_t5_shaped_and_the_same_on_every_build(t5_source):
    from tokenizers import Tokenizer

    from shoplens_export import tokenizer_t5

    _, processor, tokenizer_json, _ = t5_source
    tok = Tokenizer.from_str(tokenizer_json)
    assert [tok.id_to_token(i) for i in range(3)] == ["<pad>", "</s>", "<unk>"]
    encoded = tok.encode("Question: what is it? Answer:")
    assert encoded.ids[-1] == 1 and encoded.tokens[0].startswith("\u2581")  # </s> last, Metaspace first
    assert encoded.ids == processor.tokenizer("Question: what is it? Answer:")["input_ids"]
    assert tokenizer_t5.train().to_str() == tokenizer_json
    assert (T5_BUNDLE / "tokenizer.json").read_text() == tokenizer_json


def test_export_should_refuse_float16_for_t5_and_say_why(t5_source, tmp_path):
    from shoplens_export import export
    from shoplens_export.errors import ExportError

    model, _, tokenizer_json, info = t5_source
    with pytest.raises(ExportError, match="float16.*T5.*overflow"):
        export.export_model(model, tokenizer_json, info, tmp_path, dtype="float16")
