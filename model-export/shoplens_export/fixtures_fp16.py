"""The float16 fixture: the tiny preset's weights (the same seed as tiny-blip2-opt) exported with
`--dtype float16` to models/tiny-blip2-opt-f16/, and its `reference.json` of tokens from PYTHON ONNX
RUNTIME on that bundle (runtime.BundleRunner), since a float16 bundle's definition of correct is
what ONNX Runtime makes of it, not PyTorch's float16 kernels.

The cases are fixtures.CASES (greedy and beam search) on the float32 fixture's recorded prompts and
pixel values (its reference.json). For each greedy case the same loop is also run on the float32
bundle of the same weights, and whether the two agree token for token is recorded per row, with
each step's top-2 logit gap in float16, so that a disagreement can be told from a near tie.
Sampling is not recorded: the Java sampler's random source is its own, so sampling parity is
checked on the float32 fixture's logits only.
"""

import json
from pathlib import Path

import numpy as np

import shoplens_export
from shoplens_export import export, fixtures, presets
from shoplens_export.runtime import BundleRunner

REFERENCE_FORMAT = 1
BUNDLE_NAME = "tiny-blip2-opt-f16"
# A greedy step whose float16 top-2 gap is this small could flip between ONNX Runtime versions
# (Python's 1.30 here, Java's 1.29): such a case is refused rather than recorded. 2e-3 is 4 float16
# steps for logits between 1 and 2 (the tiny model's are smaller); the smallest gap recorded is
# caption_alpha's 0.0039.
GAP_THRESHOLD = 2e-3


def _until_stop(tokens, stop_ids):
    out = []
    for t in tokens:
        out.append(int(t))
        if t in stop_ids:
            break
    return out


def _pixels(reference, image_names):
    return np.stack([np.array(reference["images"][n]["pixel_values"], np.float32)
                     .reshape(reference["images"][n]["pixel_values_shape"]) for n in image_names])


def _greedy(runner, case, pixels):
    ids, mask = np.array(case["input_ids"]), np.array(case["attention_mask"])
    gaps = [[] for _ in range(ids.shape[0])]

    def record(step, logits, unfinished):
        top = np.sort(logits.astype(np.float32), axis=-1)[:, -2:]
        for row in range(logits.shape[0]):
            if unfinished[row]:
                gaps[row].append(float(top[row, 1] - top[row, 0]))

    sequences = runner.greedy(ids, mask, pixels, fixtures.MAX_NEW_TOKENS, on_logits=record)
    new = sequences[:, ids.shape[1]:]
    return [_until_stop(row, runner.stop_ids) for row in new.tolist()], gaps


def generate(resources_dir, seed=presets.DEFAULT_SEED):
    """Writes models/tiny-blip2-opt-f16/ (bundle and reference.json). Needs the float32 fixture
    (models/tiny-blip2-opt/, written by fixtures.generate from the same seed) beside it."""
    resources_dir = Path(resources_dir)
    f32_dir = resources_dir / "models" / fixtures.BUNDLE_NAME
    f32_reference = json.loads((f32_dir / "reference.json").read_text(encoding="utf-8"))
    bundle_dir = export.check_output_dir(resources_dir / "models" / BUNDLE_NAME)

    model, _, tokenizer_json, info = presets.source(presets.TINY, seed)
    info = dict(info, name=info["name"] + "-f16")
    manifest = export.export_model(model, tokenizer_json, info, bundle_dir, dtype="float16")

    f16, f32 = BundleRunner(bundle_dir), BundleRunner(f32_dir)
    cases, agreeing, rows = [], 0, 0
    for name, _, _, options in fixtures.CASES:
        recorded = next(c for c in f32_reference["cases"] if c["name"] == name)
        pixels = _pixels(f32_reference, recorded["images"])
        case = {k: recorded[k] for k in ("name", "images", "prompts", "generation", "input_ids", "attention_mask")}
        if options.get("num_beams", 1) == 1:
            tokens, gaps = _greedy(f16, recorded, pixels)
            smallest = min(min(g) for g in gaps)
            if smallest <= GAP_THRESHOLD:
                raise AssertionError(f"{name}: a float16 greedy step's top-2 gap is only {smallest}")
            f32_tokens, _ = _greedy(f32, recorded, pixels)
            agree = [a == b for a, b in zip(tokens, f32_tokens)]
            agreeing += sum(agree)
            rows += len(agree)
            case.update(new_tokens=tokens, step_top2_gaps=[fixtures._round(g, 4) for g in gaps],
                        float32_new_tokens=f32_tokens, agrees_with_float32=agree)
        else:
            ids, mask = np.array(recorded["input_ids"]), np.array(recorded["attention_mask"])
            sequences, scores = f16.beam_search(
                ids, mask, pixels, fixtures.MAX_NEW_TOKENS, options["num_beams"],
                options.get("num_return_sequences", 1), options.get("length_penalty", 1.0),
                options.get("early_stopping", False))
            new = sequences[:, ids.shape[1]:]
            case.update(new_tokens=[_until_stop(r, f16.stop_ids) for r in new.tolist()],
                        sequences_scores=fixtures._round(scores.tolist()))
        cases.append(case)

    reference = {
        "format_version": REFERENCE_FORMAT,
        "model_version": manifest["model_version"],
        "float32_model_version": f32_reference["model_version"],
        "generated_by": {
            "onnxruntime": _ort_version(), "exporter": shoplens_export.__version__,
            "runner": "shoplens_export.runtime.BundleRunner (CPU, 1 intra-op thread)",
            "pixel_values": f"../{fixtures.BUNDLE_NAME}/reference.json",
        },
        "greedy_rows_agreeing_with_float32": agreeing,
        "greedy_rows": rows,
        "cases": cases,
    }
    text = json.dumps(reference, indent=1, allow_nan=False)
    (bundle_dir / "reference.json").write_text(text + "\n", encoding="utf-8")
    return reference


def _ort_version():
    import onnxruntime

    return onnxruntime.__version__
