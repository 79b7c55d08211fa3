"""The tiny-t5 Java test fixture: `models/tiny-blip2-t5/` (bundle) and its `reference.json`, in the
form of the OPT fixture (fixtures.py, docs/model-bundle.md), produced by Hugging Face's `generate()`.

T5 differences in the recorded cases: `input_ids` / `attention_mask` are the **encoder's** (image
tokens, prompt, `</s>`, right padding); `sequences` are the **decoder's** as `generate()` returns
them (`decoder_start_token_id` first); `new_tokens` drop that first id. A caption is the empty prompt
(LAVIS's T5 default; Hugging Face's generate() without text would need a bos id T5 does not have).
"""

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import shoplens_export
from shoplens_export import export, fixtures, images, presets, presets_t5

BUNDLE_NAME = "tiny-blip2-t5"
MAX_NEW_TOKENS = fixtures.MAX_NEW_TOKENS
GREEDY, BEAM = fixtures.GREEDY, fixtures.BEAM
CAPTION = ""
CASES = [
    ("caption_photo", ["photo.jpg"], [CAPTION], GREEDY),
    ("caption_gray", ["gray.png"], [CAPTION], GREEDY),
    ("caption_wide", ["wide.png"], [CAPTION], GREEDY),
    ("vqa_photo", ["photo.jpg"], ["Question: what color is the dress? Answer:"], GREEDY),
    ("multiturn_alpha", ["alpha.png"],
     ["Question: what is this? Answer: a bag. Question: what color is it? Answer:"], GREEDY),
    ("batch_padded", ["photo.jpg", "wide.png"],
     ["Question: what is the dress made of? Answer:", "Question: is it red? Answer:"], GREEDY),
    ("beam_vqa_photo", ["photo.jpg"], ["Question: what would go well with this dress? Answer:"], BEAM),
    ("beam_caption_gray", ["gray.png"], [CAPTION], dict(BEAM, length_penalty=2.0, num_return_sequences=2)),
    ("beam_batch_padded", ["photo.jpg", "palette.png"], ["Question: what is it? Answer:", CAPTION],
     dict(BEAM, num_return_sequences=2)),
]
# Kept apart from CASES, whose greedy and beam cases the Python loops (runtime_t5) replay without a
# repetition penalty. Hugging Face penalises what is in the decoder's input_ids: the decoder start
# token (= pad, 0) and what was generated, never the encoder's image tokens and prompt. Each case
# was chosen so that its penalty changes the output (test_parity_t5 checks it): the tiny model is
# confident enough that most cases' tokens survive a penalty, beam search's log-probabilities near 0
# most of all. repetition_multiturn_alpha generates 0 without a penalty, so it fails if the decoder
# start is not counted; the penalty < 1 case rewards repeats instead.
REPETITION = [
    ("repetition_caption_photo", ["photo.jpg"], [CAPTION], dict(GREEDY, repetition_penalty=1.5)),
    ("repetition_multiturn_alpha", ["alpha.png"],
     ["Question: what is this? Answer: a bag. Question: what color is it? Answer:"],
     dict(GREEDY, repetition_penalty=1.3)),
    ("repetition_batch_padded", ["wide.png", "photo.jpg"], [CAPTION, "Question: what is the dress made of? Answer:"],
     dict(GREEDY, repetition_penalty=1.3)),
    ("repetition_beam_vqa_palette", ["palette.png"], ["Question: what is it? Answer:"],
     dict(BEAM, repetition_penalty=1.4)),
    ("repetition_beam_batch_padded", ["gray.png", "palette.png"], [CAPTION, "Question: what is it? Answer:"],
     dict(BEAM, num_return_sequences=2, repetition_penalty=0.8)),
]
SAMPLING = [
    ("sample_temperature", ["photo.jpg"], ["Question: what color is the dress? Answer:"],
     {"do_sample": True, "temperature": 0.7}, 11),
    ("sample_top_k_top_p", ["wide.png"], [CAPTION], {"do_sample": True, "temperature": 1.3, "top_k": 20, "top_p": 0.8},
     12),
    ("sample_top_p_only", ["alpha.png"], ["Question: what is this? Answer:"], {"do_sample": True, "top_k": 0, "top_p": 0.5},
     13),
    # No top-k/top-p filter: every token's processed score is recorded, so the penalty of each id in
    # the decoder's sequence (and the absence of one on the encoder prompt's ids) is checked.
    ("sample_repetition_penalty", ["photo.jpg"], ["Question: what color is the dress? Answer:"],
     {"do_sample": True, "top_k": 0, "repetition_penalty": 1.6}, 14),
    ("sample_repetition_reward", ["gray.png"], [CAPTION],
     {"do_sample": True, "temperature": 0.9, "top_k": 30, "repetition_penalty": 0.7}, 15),
]


def run_case(model, processor, image_dir, name, image_names, prompts, options, seed=None):
    pil = [Image.open(image_dir / n) for n in image_names]
    inputs = processor(images=pil, text=list(prompts), padding=True, return_tensors="pt")
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, return_dict_in_generate=True,
                             output_scores=True, output_logits=True, **options)
    stop_ids = set(presets.stop_token_ids(model))
    sequences = out.sequences
    new_tokens = sequences[:, 1:]
    case = {
        "name": name,
        "images": image_names,
        "prompts": prompts,
        "generation": dict(options, max_new_tokens=MAX_NEW_TOKENS),
        "input_ids": inputs["input_ids"].tolist(),
        "attention_mask": inputs["attention_mask"].tolist(),
        "decoder_start_token_id": model.config.text_config.decoder_start_token_id,
        "sequences": sequences.tolist(),
        "new_tokens": new_tokens.tolist(),
        "text": processor.batch_decode(new_tokens, **fixtures.DECODE),
    }
    if options.get("num_beams", 1) > 1:
        case["sequences_scores"] = fixtures._round(out.sequences_scores.tolist())
    elif not options.get("do_sample"):
        gaps = []
        for row in range(sequences.shape[0]):
            row_gaps = []
            for step, logits in enumerate(out.logits):
                if step > 0 and new_tokens[row, step - 1].item() in stop_ids:
                    break  # finished rows are padded; their logits do not matter
                top = torch.topk(logits[row].float(), 2).values
                row_gaps.append(float(top[0] - top[1]))
            gaps.append(fixtures._round(row_gaps, 4))
        case["step_top2_gaps"] = gaps
        smallest = min(min(g) for g in gaps)
        if smallest <= fixtures.GAP_THRESHOLD:
            raise AssertionError(f"{name}: a greedy step's top-2 logit gap is only {smallest}; choose another case")
    else:
        case["seed"] = seed
        steps = []
        for step in range(min(fixtures.SAMPLING_STEPS, len(out.scores))):
            raw = out.logits[step][0].float()
            processed = out.scores[step][0].float()
            kept = torch.nonzero(torch.isfinite(processed)).flatten().tolist()
            steps.append({"step": step, "raw_logits": fixtures._round(raw.tolist()),
                          "kept": [[i, float(f"{processed[i].item():.7g}")] for i in kept],
                          "sampled": new_tokens[0, step].item()})
        case["sampling_steps"] = steps
    return case


def generate(resources_dir, seed=presets.DEFAULT_SEED):
    """Writes models/tiny-blip2-t5/ (bundle + reference.json); the images are the OPT fixture's
    (images/, written by fixtures.generate or here if missing)."""
    import transformers

    transformers.logging.set_verbosity_error()
    resources_dir = Path(resources_dir)
    image_dir = resources_dir / "images"
    bundle_dir = resources_dir / "models" / BUNDLE_NAME
    export.check_output_dir(bundle_dir)
    descriptions = images.write_all(export.check_output_dir(image_dir))

    model, processor, tokenizer_json, info = presets_t5.source(seed)
    manifest = export.export_model(model, tokenizer_json, info, bundle_dir)
    image_entries = {}
    for name, description in descriptions.items():
        pil = Image.open(image_dir / name)
        pv = processor.image_processor(pil, return_tensors="np")["pixel_values"][0]
        image_entries[name] = {"description": description, "mode": pil.mode, "width": pil.width, "height": pil.height,
                               "pixel_values_shape": list(pv.shape),
                               "pixel_values": fixtures._round(pv.astype(np.float64).flatten().tolist())}
    cases = [run_case(model, processor, image_dir, *c) for c in CASES + REPETITION]
    cases += [run_case(model, processor, image_dir, n, i, p, o, seed=s) for n, i, p, o, s in SAMPLING]
    reference = {
        "format_version": fixtures.REFERENCE_FORMAT,
        "model_version": manifest["model_version"],
        "architecture": manifest["architecture"],
        "generated_by": {
            "transformers": manifest["exporter"]["transformers"], "torch": manifest["exporter"]["torch"],
            "exporter": shoplens_export.__version__, "image_processor": type(processor.image_processor).__name__,
            "decode": fixtures.DECODE,
        },
        "images": image_entries,
        "cases": cases,
    }
    text = json.dumps(reference, indent=1, allow_nan=False)
    (bundle_dir / "reference.json").write_text(text + "\n", encoding="utf-8")
    return reference
