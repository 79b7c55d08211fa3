"""ONNX Runtime running the exported graphs reproduces Hugging Face's generate() on every reference case.

The loops in shoplens_export.runtime use only the bundle and the rules of docs/model-bundle.md, so
these tests prove the contract the Java engine implements, not just the export.
"""

import numpy as np
import pytest
import torch

from shoplens_export.runtime import BundleRunner

from conftest import COMMITTED_BUNDLE, pixel_values


def _cases(reference, kind):
    return [c for c in reference["cases"] if _kind(c) == kind]


def _kind(case):
    g = case["generation"]
    return "sample" if g.get("do_sample") else ("beam" if g.get("num_beams", 1) > 1 else "greedy")


@pytest.fixture(scope="module")
def runner():
    return BundleRunner(COMMITTED_BUNDLE)


def test_reference_should_cover_every_kind_of_case(reference):
    names = {c["name"] for c in reference["cases"]}
    assert {"caption_photo", "vqa_photo", "multiturn_alpha", "batch_padded", "beam_vqa_photo"} <= names
    assert len(_cases(reference, "greedy")) >= 9 and len(_cases(reference, "beam")) >= 3
    assert len(_cases(reference, "sample")) >= 3
    # Stopping is exercised: some greedy row and some beam hypothesis end on a stop id early.
    stopped = [row for c in reference["cases"] for row in c["new_tokens"] if 412 in row[:-1] or 2 in row[:-1]]
    assert stopped


@pytest.mark.parametrize("index", range(9))
def test_greedy_loop_should_reproduce_hugging_face_tokens(runner, reference, index):
    case = _cases(reference, "greedy")[index]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])

    sequences = runner.greedy(ids, mask, pixel_values(reference, case["images"]),
                              case["generation"]["max_new_tokens"])

    assert sequences.tolist() == case["sequences"], case["name"]
    assert all(gap > 1e-3 for row in case["step_top2_gaps"] for gap in row)


@pytest.mark.parametrize("index", range(3))
def test_beam_loop_should_reproduce_hugging_face_sequences_and_scores(runner, reference, index):
    case = _cases(reference, "beam")[index]
    g = case["generation"]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])

    sequences, scores = runner.beam_search(ids, mask, pixel_values(reference, case["images"]), g["max_new_tokens"],
                                           g["num_beams"], g["num_return_sequences"], g["length_penalty"])

    assert sequences.tolist() == case["sequences"], case["name"]
    np.testing.assert_allclose(scores, case["sequences_scores"], atol=1e-4)


def _warp(logits, temperature=None, top_k=50, top_p=None):
    """Hugging Face's temperature -> top-k -> top-p warpers, on numpy (as the Java sampler does)."""
    x = logits.astype(np.float32)
    if temperature is not None and temperature != 1.0:
        x = x / np.float32(temperature)
    if top_k:
        kth = np.sort(x)[-min(top_k, x.size)]
        x = np.where(x < kth, -np.inf, x)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(x, kind="stable")
        sorted_x = x[order]
        probs = np.exp(sorted_x - sorted_x.max())
        cumulative = np.cumsum(probs / probs.sum())
        remove = cumulative <= 1 - top_p
        remove[-1] = False
        x = x.copy()
        x[order[remove]] = -np.inf
    return x


@pytest.mark.parametrize("index", range(3))
def test_sampling_filters_should_keep_the_tokens_hugging_face_kept(runner, reference, index):
    # Given the prompt and the tokens HF sampled, fed back one step at a time through the graphs
    case = _cases(reference, "sample")[index]
    g = case["generation"]
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])
    logits, past, last_pos = runner.prefill(ids, mask, pixel_values(reference, case["images"]))

    for step in case["sampling_steps"]:
        # Then the graphs' logits are HF's raw logits, and filtering them keeps exactly HF's tokens
        np.testing.assert_allclose(logits[0], step["raw_logits"], atol=1e-4)
        warped = _warp(np.asarray(step["raw_logits"], np.float32), g.get("temperature"), g.get("top_k", 50),
                       g.get("top_p"))
        kept = np.flatnonzero(np.isfinite(warped))
        assert kept.tolist() == [k for k, _ in step["kept"]], (case["name"], step["step"])
        np.testing.assert_allclose(warped[kept], [v for _, v in step["kept"]], rtol=1e-5)
        assert step["sampled"] in kept

        token = np.array([[step["sampled"]]])
        mask = np.concatenate([mask, [[1]]], axis=1)
        last_pos = last_pos + 1
        embeds = runner.embed.run(None, {"input_ids": token})[0]
        step_logits, past = runner.step(embeds, mask, last_pos, past)
        logits = step_logits[:, -1]


def test_reference_should_still_be_what_hugging_face_generates(tiny_source, reference):
    # The committed outputs must match the installed transformers on a greedy and a beam case.
    from PIL import Image

    from conftest import RESOURCES

    model, processor, _, _ = tiny_source
    for name in ("vqa_photo", "beam_vqa_photo"):
        case = next(c for c in reference["cases"] if c["name"] == name)
        images = [Image.open(RESOURCES / "images" / n) for n in case["images"]]
        inputs = processor(images=images, text=case["prompts"], padding=True, return_tensors="pt")
        assert inputs["input_ids"].tolist() == case["input_ids"]
        with torch.no_grad():
            out = model.generate(**inputs, **case["generation"])
        assert out.tolist() == case["sequences"], name


def test_pixel_values_should_be_what_the_hugging_face_processor_gives(tiny_source, reference):
    from PIL import Image

    from conftest import RESOURCES

    _, processor, _, _ = tiny_source
    for name, entry in reference["images"].items():
        pv = processor.image_processor(Image.open(RESOURCES / "images" / name), return_tensors="np")["pixel_values"]
        np.testing.assert_allclose(pv[0].flatten(), entry["pixel_values"], atol=1e-6, err_msg=name)


def _penalised(raw, ids, penalty):
    """RepetitionPenaltyLogitsProcessor on numpy: every id in `ids`, once, from its original score."""
    x = np.asarray(raw, np.float32).copy()
    ids = np.unique(np.asarray(ids, np.int64))
    s = x[ids]
    x[ids] = np.where(s < 0, s * np.float32(penalty), s / np.float32(penalty))
    return x


def test_repetition_penalty_should_count_the_prompt_and_its_image_placeholders(reference):
    # Given the sampling case without top-k/top-p, whose every processed score is recorded
    case = next(c for c in reference["cases"] if c["name"] == "sample_repetition_penalty")
    penalty = case["generation"]["repetition_penalty"]
    prompt = case["input_ids"][0]
    image_token = 599  # the tiny preset's image placeholder id
    assert image_token in prompt

    for step in case["sampling_steps"]:
        # When the penalty is applied to the prompt (image placeholders, bos, text) and the samples so far
        so_far = prompt + case["new_tokens"][0][:step["step"]]
        expected = _penalised(step["raw_logits"], so_far, penalty)

        # Then it gives Hugging Face's processed scores, the never generated image placeholder included
        assert len(step["kept"]) == len(step["raw_logits"])
        recorded = np.array([v for _, v in step["kept"]], np.float32)
        np.testing.assert_allclose(recorded, expected, rtol=1e-6, atol=1e-6)
        assert image_token not in case["new_tokens"][0][:step["step"]]
        assert recorded[image_token] != np.float32(step["raw_logits"][image_token])
