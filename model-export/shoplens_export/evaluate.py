"""`evaluate`: a bundle's accuracy on a dataset split, measured through ONNX Runtime with the
reference loop (runtime.py, token for token what the Java engine computes).

Prompts are built from the bundle alone (manifest + tokenizer.json), as the engine builds them:
`num_query_tokens` x `<image>`, left padding, then the tokenizer's ids of "Question: {q} Answer:"
(or nothing for a caption). Greedy decoding, stop tokens from the manifest. Scoring: exact match
after lower-casing and trimming (a trailing "." ignored); a caption is right when it names the
product's colour and kind.
"""

import json
import time
from pathlib import Path

import numpy as np

from shoplens_export import dataset as dataset_
from shoplens_export.errors import ExportError
from shoplens_export.finetune import normalise, caption_hit, sample_rows

DECODE = dict(skip_special_tokens=True)


class BundleQA:
    def __init__(self, bundle_dir):
        from tokenizers import Tokenizer
        from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

        from shoplens_export.runtime import BundleRunner

        self.runner = BundleRunner(bundle_dir)
        m = self.runner.manifest
        self.manifest = m
        self.tok = Tokenizer.from_file(str(Path(bundle_dir) / "tokenizer.json"))
        v = m["vision"]
        self.images = BlipImageProcessorPil(
            size={"height": v["image_size"], "width": v["image_size"]}, resample=3, do_resize=v["do_resize"],
            do_rescale=v["do_rescale"], rescale_factor=v["rescale_factor"], do_normalize=v["do_normalize"],
            image_mean=v["image_mean"], image_std=v["image_std"], do_convert_rgb=v["do_convert_rgb"])
        self.q = m["num_query_tokens"]
        self.template = m["prompt"]["question_template"]

    def pixel_values(self, paths):
        from PIL import Image

        out = []
        for p in paths:
            with Image.open(p) as im:
                out.append(self.images(im, return_tensors="np")["pixel_values"][0])
        return np.stack(out).astype(np.float32)

    def answer(self, image_paths, questions, max_new_tokens=10):
        tokens = self.manifest["tokens"]
        texts = [self.tok.encode("" if q is None else self.template.format(question=q)).ids for q in questions]
        width = max(len(t) for t in texts)
        ids = np.array([[tokens["image_token_id"]] * self.q + [tokens["pad_token_id"]] * (width - len(t)) + t
                        for t in texts], np.int64)
        mask = np.array([[1] * self.q + [0] * (width - len(t)) + [1] * len(t) for t in texts], np.int64)
        seq = self.runner.greedy(ids, mask, self.pixel_values(image_paths), max_new_tokens)
        return [self.tok.decode(row[ids.shape[1]:].tolist(), skip_special_tokens=True) for row in seq]


def evaluate(bundle_dir, data_dir, split="test", limit=None, batch_size=32, seed=0, quiet=False):
    data_dir = Path(data_dir)
    rows = dataset_.load(data_dir, split)
    if not rows:
        raise ExportError(f"{data_dir}: no rows in split {split!r}")
    if limit:
        rows = sample_rows(rows, limit, seed)
    qa = BundleQA(bundle_dir)
    started = time.time()
    per, examples = {}, []
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        preds = qa.answer([data_dir / r["image"] for r in chunk], [r["question"] for r in chunk])
        for r, p in zip(chunk, preds):
            hit = caption_hit(p, r["answer"]) if r["type"] == "caption" else normalise(p) == normalise(r["answer"])
            s = per.setdefault(r["type"], [0, 0])
            s[0] += int(hit)
            s[1] += 1
            if len(examples) < 12 and (i // batch_size) % 3 == 0:
                examples.append({"type": r["type"], "question": r["question"], "answer": r["answer"],
                                 "predicted": p.strip(), "right": hit})
        if not quiet:
            print(f"evaluate: {min(i + batch_size, len(rows))}/{len(rows)} rows", flush=True)
    result = {
        "bundle": str(bundle_dir), "model_version": qa.manifest["model_version"],
        "quantization": qa.manifest.get("quantization"), "data": str(data_dir), "split": split, "rows": len(rows),
        "products": len({r["productId"] for r in rows}),
        "accuracy": {t: {"accuracy": round(h / n, 4), "n": n} for t, (h, n) in sorted(per.items())},
        "bundle_bytes": sum(f["bytes"] for f in qa.manifest["files"].values()),
        "seconds": round(time.time() - started, 1), "examples": examples,
    }
    return result


def main(args):
    result = evaluate(args.bundle, args.data, args.split, args.limit)
    for t, v in result["accuracy"].items():
        print(f"{t:10s} {v['accuracy'] * 100:6.2f}%  (n={v['n']})")
    print(f"{result['rows']} rows, {result['products']} products, {result['seconds']} s, "
          f"bundle {result['bundle_bytes']} bytes ({result['model_version']})")
    if args.report:
        Path(args.report).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
