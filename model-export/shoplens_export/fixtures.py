"""Regenerates the Java test fixtures: the tiny bundle, test images and Hugging Face reference
outputs (`reference.json`, described in docs/model-bundle.md)."""

import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import shoplens_export
from shoplens_export import export, images, presets

REFERENCE_FORMAT = 1
BUNDLE_NAME = "tiny-blip2-opt"
MAX_NEW_TOKENS = 12
GAP_THRESHOLD = 1e-3  # every greedy step's top-1/top-2 logit gap must exceed this
DECODE = dict(skip_special_tokens=True, clean_up_tokenization_spaces=False)

# name, images, prompts (None = caption without text), generate() options beyond max_new_tokens
GREEDY = {"do_sample": False, "num_beams": 1}
BEAM = {"do_sample": False, "num_beams": 3, "num_return_sequences": 3, "length_penalty": 0.6}
CASES = [
    ("caption_photo", ["photo.jpg"], [None], GREEDY),
    ("caption_alpha", ["alpha.png"], [None], GREEDY),
    ("caption_gray", ["gray.png"], [None], GREEDY),
    ("caption_palette", ["palette.png"], [None], GREEDY),
    ("caption_wide", ["wide.png"], [None], GREEDY),
    ("caption_tiny", ["tiny.png"], [None], GREEDY),
    ("vqa_photo", ["photo.jpg"], ["Question: what color is the dress? Answer:"], GREEDY),
    ("multiturn_alpha", ["alpha.png"],
     ["Question: what is this? Answer: a bag. Question: what color is it? Answer:"], GREEDY),
    ("batch_padded", ["photo.jpg", "wide.png"],
     ["Question: what is the dress made of? Answer:", "Question: is it red? Answer:"], GREEDY),
    ("beam_vqa_photo", ["photo.jpg"], ["Question: what would go well with this dress? Answer:"], BEAM),
    ("beam_caption_gray", ["gray.png"], [None], dict(BEAM, length_penalty=2.0, num_return_sequences=2)),
    ("beam_batch_padded", ["photo.jpg", "palette.png"], ["Question: what is it? Answer:", None],
     dict(BEAM, num_return_sequences=2)),
]
# Kept apart from CASES, which the float16 fixture replays through shoplens_export.runtime's loops
# (they do not apply repetition_penalty). Hugging Face's BLIP-2 OPT passes input_ids with
# inputs_embeds, so the prompt (image placeholders, bos, text) counts as "already in the sequence".
REPETITION = [
    ("repetition_caption_photo", ["photo.jpg"], [None], dict(GREEDY, repetition_penalty=1.5)),
    ("repetition_vqa_alpha", ["alpha.png"], ["Question: what is this? Answer:"],
     dict(GREEDY, repetition_penalty=1.3)),
    ("repetition_batch_padded", ["photo.jpg", "wide.png"],
     ["Question: what is the dress made of? Answer:", "Question: is it red? Answer:"],
     dict(GREEDY, repetition_penalty=1.2)),
    ("repetition_beam_vqa_photo", ["photo.jpg"], ["Question: what would go well with this dress? Answer:"],
     dict(BEAM, repetition_penalty=1.4)),
    ("repetition_beam_batch_padded", ["gray.png", "palette.png"], [None, "Question: what is it? Answer:"],
     dict(BEAM, num_return_sequences=2, repetition_penalty=0.8)),
]
SAMPLING = [
    # HF applies top_k=50 by default when sampling; the first case relies on that default.
    ("sample_temperature", ["photo.jpg"], ["Question: what color is the dress? Answer:"],
     {"do_sample": True, "temperature": 0.7}, 11),
    ("sample_top_k_top_p", ["wide.png"], [None], {"do_sample": True, "temperature": 1.3, "top_k": 20, "top_p": 0.8}, 12),
    ("sample_top_p_only", ["alpha.png"], ["Question: what is this? Answer:"],
     {"do_sample": True, "top_k": 0, "top_p": 0.5}, 13),
    # No top-k/top-p filter: every token's processed score is recorded, so each prompt id's penalty
    # is checked, not only those that survive a filter.
    ("sample_repetition_penalty", ["photo.jpg"], ["Question: what color is the dress? Answer:"],
     {"do_sample": True, "top_k": 0, "repetition_penalty": 1.6}, 14),
    ("sample_repetition_reward", ["gray.png"], [None],
     {"do_sample": True, "temperature": 0.9, "top_k": 30, "repetition_penalty": 0.7}, 15),
]
SAMPLING_STEPS = 3


def _round(values, digits=7):
    return [float(f"{v:.{digits}g}") for v in values]


def _inputs(processor, image_dir, image_names, prompts):
    pil = [Image.open(image_dir / n) for n in image_names]
    if all(p is None for p in prompts):
        # A caption: the processor gets no text; generate() builds image tokens + bos itself.
        return processor(images=pil, return_tensors="pt"), None
    texts = [p if p is not None else "" for p in prompts]
    return processor(images=pil, text=texts, padding=True, return_tensors="pt"), texts


def _run_case(model, processor, image_dir, name, image_names, prompts, options, seed=None):
    inputs, texts = _inputs(processor, image_dir, image_names, prompts)
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, return_dict_in_generate=True,
                             output_scores=True, output_logits=True, **options)
    q = model.config.num_query_tokens
    if "input_ids" in inputs:
        input_ids, attention_mask = inputs["input_ids"], inputs["attention_mask"]
    else:
        ids = [model.config.image_token_id] * q + [model.config.text_config.bos_token_id]
        input_ids = torch.tensor([ids] * len(image_names))
        attention_mask = torch.ones_like(input_ids)
    prompt_len = input_ids.shape[1]
    sequences = out.sequences
    new_tokens = sequences[:, prompt_len:]
    case = {
        "name": name,
        "images": image_names,
        "prompts": prompts,
        "generation": dict(options, max_new_tokens=MAX_NEW_TOKENS),
        "input_ids": input_ids.tolist(),
        "attention_mask": attention_mask.tolist(),
        "sequences": sequences.tolist(),
        "new_tokens": new_tokens.tolist(),
        "text": processor.batch_decode(new_tokens, **DECODE),
    }
    if options.get("num_beams", 1) > 1:
        case["sequences_scores"] = _round(out.sequences_scores.tolist())
    elif not options.get("do_sample"):
        gaps = []
        for row in range(sequences.shape[0]):
            row_gaps = []
            for step, logits in enumerate(out.logits):
                if step > 0 and new_tokens[row, step - 1].item() in _stop_ids(model):
                    break  # finished rows are padded; their logits do not matter
                top = torch.topk(logits[row].float(), 2).values
                row_gaps.append(float(top[0] - top[1]))
            gaps.append(_round(row_gaps, 4))
        case["step_top2_gaps"] = gaps
        smallest = min(min(g) for g in gaps)
        if smallest <= GAP_THRESHOLD:
            raise AssertionError(f"{name}: a greedy step's top-2 logit gap is only {smallest}; choose another case")
    else:
        case["seed"] = seed
        steps = []
        for step in range(min(SAMPLING_STEPS, len(out.scores))):
            raw = out.logits[step][0].float()
            processed = out.scores[step][0].float()
            kept = torch.nonzero(torch.isfinite(processed)).flatten().tolist()
            steps.append({
                "step": step,
                "raw_logits": _round(raw.tolist()),
                "kept": [[i, float(f"{processed[i].item():.7g}")] for i in kept],
                "sampled": new_tokens[0, step].item(),
            })
        case["sampling_steps"] = steps
    return case


def _stop_ids(model):
    return set(presets.stop_token_ids(model))


def generate(resources_dir, seed=presets.DEFAULT_SEED):
    """Writes images/, models/tiny-blip2-opt/ (bundle) and models/tiny-blip2-opt/reference.json."""
    import transformers

    transformers.logging.set_verbosity_error()
    resources_dir = Path(resources_dir)
    image_dir = resources_dir / "images"
    bundle_dir = resources_dir / "models" / BUNDLE_NAME
    export.check_output_dir(image_dir)
    export.check_output_dir(bundle_dir)
    descriptions = images.write_all(image_dir)

    model, processor, tokenizer_json, info = presets.source(presets.TINY, seed)
    manifest = export.export_model(model, tokenizer_json, info, bundle_dir)

    image_entries = {}
    for name, description in descriptions.items():
        pil = Image.open(image_dir / name)
        pv = processor.image_processor(pil, return_tensors="np")["pixel_values"][0]
        image_entries[name] = {
            "description": description,
            "mode": pil.mode,
            "width": pil.width,
            "height": pil.height,
            "pixel_values_shape": list(pv.shape),
            "pixel_values": _round(pv.astype(np.float64).flatten().tolist()),
        }

    cases = [_run_case(model, processor, image_dir, *c) for c in CASES + REPETITION]
    cases += [_run_case(model, processor, image_dir, n, i, p, o, seed=s) for n, i, p, o, s in SAMPLING]
    reference = {
        "format_version": REFERENCE_FORMAT,
        "model_version": manifest["model_version"],
        "generated_by": {
            "transformers": manifest["exporter"]["transformers"], "torch": manifest["exporter"]["torch"],
            "exporter": shoplens_export.__version__, "image_processor": type(processor.image_processor).__name__,
            "decode": DECODE,
        },
        "images": image_entries,
        "cases": cases,
    }
    text = json.dumps(reference, indent=1, allow_nan=False)
    (bundle_dir / "reference.json").write_text(text + "\n", encoding="utf-8")
    return reference
