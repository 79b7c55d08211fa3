"""`finetune`: trains a BLIP-2 OPT model on a dataset directory (docs/dataset.md, docs/fine-tune.md).

The default is BLIP-2's own recipe: the vision tower and the language model are frozen
(`requires_grad` False, kept in eval mode), the Q-Former, the query tokens and the language
projection are trained. `--train all` trains every weight (the demo model, from a random preset).

Each row is laid out exactly as the Java engine feeds it at inference (docs/model-bundle.md,
"Prompt ids"): `num_query_tokens` x `<image>`, then the tokenizer's ids of the prompt (which start
with `</s>`, OPT's bos): "Question: {q} Answer:" for a question, nothing for a caption. The target
follows: the answer with a leading space (" white") for a question, the caption as is for a
caption (generation starts right after `</s>`), then the model's first stop token, so that greedy
generation stops. The loss is the language-model loss on the target tokens only: image and prompt
positions are labelled -100. Padding goes on the right (after the target, mask 0): with OPT's
positions taken from the mask's cumulative sum, a row's real tokens compute exactly what they
compute unpadded, i.e. what the engine computes with its left padding.
"""

import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

from shoplens_export import dataset as dataset_
from shoplens_export import training
from shoplens_export.errors import ExportError
from shoplens_export.export import QUESTION_TEMPLATE, TURN_SEPARATOR, TURN_TEMPLATE

DECODE = dict(skip_special_tokens=True, clean_up_tokenization_spaces=False)


def load_base(base, seed):
    """Returns (model, processor, description) for a preset name or a BLIP-2 OPT checkpoint dir."""
    import transformers

    from shoplens_export import presets, sources

    transformers.logging.set_verbosity_error()
    if base in presets.PRESETS:
        model, processor = presets.build(presets.get(base), seed)
        return model, processor, {"preset": base, "seed": seed}
    path = Path(base)
    if path.is_dir() and (path / "config.json").is_file():
        try:
            config = json.loads((path / "config.json").read_text())
        except ValueError as e:
            raise ExportError(f"{path / 'config.json'}: unreadable ({e})") from None
        if config.get("model_type") not in ("blip-2", "blip_2"):
            raise ExportError(f"--base {base}: model_type {config.get('model_type')!r} is not BLIP-2: finetune "
                              f"needs a BLIP-2 OPT checkpoint or a preset ({', '.join(presets.PRESETS)})")
    elif not path.exists() and "/" not in base:
        raise ExportError(f"--base {base}: not a preset ({', '.join(presets.PRESETS)}) nor a checkpoint directory")
    model, processor, _, _ = sources.checkpoint(base)
    return model, processor, {"checkpoint": str(base)}


def stop_id(model):
    from shoplens_export.presets import stop_token_ids

    return stop_token_ids(model)[0]


class Encoder:
    """Turns dataset rows into (ids, labels) the way the engine lays out prompts."""

    def __init__(self, model, processor):
        self.tok = processor.tokenizer
        self.q = model.config.num_query_tokens
        self.image_id = model.config.image_token_id
        self.stop = stop_id(model)
        self.pad = self.tok.pad_token_id

    def prompt_ids(self, question, history=()):
        """`history`: earlier (question, answer) turns of the conversation, laid out as the engine
        lays them out (the manifest's turn template and separator, docs/model-bundle.md)."""
        text = "" if question is None else "".join(
            TURN_TEMPLATE.format(question=q, answer=a) + TURN_SEPARATOR for q, a in history
        ) + QUESTION_TEMPLATE.format(question=question)
        return self.tok(text)["input_ids"]  # starts with </s> (the post-processor adds it)

    def target_ids(self, row):
        text = row["answer"] if row["question"] is None else " " + row["answer"]
        return self.tok(text, add_special_tokens=False)["input_ids"] + [self.stop]

    def example(self, row, history=()):
        prompt = [self.image_id] * self.q + self.prompt_ids(row["question"], history)
        target = self.target_ids(row)
        return prompt + target, [-100] * len(prompt) + target

    def generation_batch(self, rows):
        """Left-padded prompts as Blip2Processor builds them: pads between the image tokens and
        `</s>` (docs/model-bundle.md)."""
        texts = [self.prompt_ids(r["question"]) for r in rows]
        width = max(len(t) for t in texts)
        ids = [[self.image_id] * self.q + [self.pad] * (width - len(t)) + t for t in texts]
        mask = [[1] * self.q + [0] * (width - len(t)) + [1] * len(t) for t in texts]
        return torch.tensor(ids), torch.tensor(mask)


def earlier_turns(rows, fraction, seed):
    """Per row, the conversation it is trained in: with probability `fraction`, one earlier turn
    about the same image (another of its questions, with the right answer), as a shopper's
    follow-up carries the first question and answer in its prompt; else none. Captions stand
    alone. Without such rows a model trained on single questions answers a follow-up with the
    earlier answer (measured: the demo's "Are these sneakers suitable for outdoor activities?"
    after "what colour are the sneakers?" got the colour)."""
    rnd = random.Random(seed + 7)
    by_image = {}
    for r in rows:
        if r["question"] is not None:
            by_image.setdefault(r["image"], []).append(r)
    out = []
    for r in rows:
        others = [o for o in by_image.get(r["image"], ()) if o["type"] != r["type"]]
        if r["question"] is None or not others or rnd.random() >= fraction:
            out.append(())
        else:
            o = rnd.choice(others)
            out.append(((o["question"], o["answer"]),))
    return out


def collate(examples, pad):
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (x, y) in enumerate(examples):
        ids[i, :len(x)] = torch.tensor(x)
        labels[i, :len(y)] = torch.tensor(y)
        mask[i, :len(x)] = 1
    return ids, labels, mask


def loss_fn(model, images, ids, labels, mask, image_index=None, encoded=False):
    """Mean cross-entropy over the target tokens. Logits are computed only where a label is set
    (the 50k-row head on every position would dominate a small model's step time).

    `images` holds each distinct image of the batch once, as pixel values or, with `encoded`, as the
    (frozen) vision tower's output; row i uses image `image_index[i]` (default: row i), so that rows
    about the same image share one vision forward and backward."""
    from shoplens_export.graphs import VisionGraph

    device = model.query_tokens.device
    images, ids, labels, mask = (t.to(device) for t in (images, ids, labels, mask))
    graph = VisionGraph(model)
    query = graph.from_image_embeds(images) if encoded else graph(images)
    if image_index is not None:
        query = query[image_index.to(device)]
    embeds = model.get_input_embeddings()(ids)
    image_mask = (ids == model.config.image_token_id).unsqueeze(-1).expand_as(embeds)
    embeds = embeds.masked_scatter(image_mask, query.to(embeds.dtype))
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    lm = model.language_model
    hidden = lm.model.decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                              use_cache=False).last_hidden_state
    shifted = labels[:, 1:]
    where = shifted != -100
    logits = lm.lm_head(hidden[:, :-1][where])
    return torch.nn.functional.cross_entropy(logits.float(), shifted[where])


def set_trainable(model, mode, freeze_vision=False):
    """BLIP-2's recipe (`qformer`) or everything (`all`, the vision tower too unless
    `freeze_vision`); returns the trainable parameters."""
    for p in model.parameters():
        p.requires_grad = mode == "all"
    if freeze_vision:
        for p in model.vision_model.parameters():
            p.requires_grad = False
    if mode == "qformer":
        for module in (model.qformer, model.language_projection):
            for p in module.parameters():
                p.requires_grad = True
        model.query_tokens.requires_grad = True
    return [p for p in model.parameters() if p.requires_grad]


def train_mode(model, mode, freeze_vision=False):
    model.train()
    if mode == "qformer" or freeze_vision:  # frozen parts stay in eval mode (no dropout), as in BLIP-2
        model.vision_model.eval()
    if mode == "qformer":
        model.language_model.eval()


# Frozen-tower features are kept in memory for the whole run only up to this size (the tiny and demo
# models: megabytes; blip2-opt-2.7b: 257 x 1408 floats, 1.4 MB an image, so large datasets recompute).
ENCODED_CACHE_BYTES = 2 << 30


def encode_images(model, pixels, batch_size=64):
    """The frozen vision tower's output for every image of `pixels` (name -> tensor), or None when
    that would exceed ENCODED_CACHE_BYTES."""
    names = list(pixels)
    vision = model.vision_model
    with torch.no_grad():
        probe = vision(pixels[names[0]].unsqueeze(0).to(model.query_tokens.device), return_dict=True).last_hidden_state
        if probe.numel() * probe.element_size() * len(names) > ENCODED_CACHE_BYTES:
            return None
        out = {}
        vision.eval()
        for i in range(0, len(names), batch_size):
            chunk = names[i:i + batch_size]
            pv = torch.stack([pixels[n] for n in chunk]).to(model.query_tokens.device)
            for n, f in zip(chunk, vision(pv, return_dict=True).last_hidden_state):
                out[n] = f
    return out


def normalise(text):
    return " ".join(text.strip().lower().rstrip(".").split())


def caption_hit(predicted, row_attrs_caption):
    """A caption is right when it names the product's colour and kind (category)."""
    words = normalise(predicted).split()
    truth = normalise(row_attrs_caption).split()
    colour, kind = truth[1], truth[-1]
    return colour in words and kind in words


def generate(model, encoder, rows, pixel_cache, batch_size=32, max_new_tokens=10):
    """Greedy answers from Hugging Face's generate(), for the rows (in order)."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            ids, mask = encoder.generation_batch(chunk)
            device = model.query_tokens.device
            pixels = torch.stack([pixel_cache[r["image"]] for r in chunk]).to(device)
            ids, mask = ids.to(device), mask.to(device)
            seq = model.generate(pixel_values=pixels, input_ids=ids, attention_mask=mask, do_sample=False,
                                 num_beams=1, max_new_tokens=max_new_tokens)
            # transformers 5 returns only new tokens for BLIP-2 when input_ids are given? Be exact:
            new = seq[:, ids.shape[1]:] if seq.shape[1] > ids.shape[1] and torch.equal(
                seq[:, :ids.shape[1]], ids) else seq
            out += [encoder.tok.decode(t, **DECODE) for t in new]
    return out


def score(rows, predictions):
    """Accuracy per type (exact match after normalising; captions: names colour and kind)."""
    per = {}
    for r, p in zip(rows, predictions):
        hit = caption_hit(p, r["answer"]) if r["type"] == "caption" else normalise(p) == normalise(r["answer"])
        s = per.setdefault(r["type"], [0, 0])
        s[0] += int(hit)
        s[1] += 1
    return {t: {"accuracy": round(h / n, 4), "n": n} for t, (h, n) in sorted(per.items())}


def sample_rows(rows, n, seed):
    """A seeded sample of at most n rows, stratified by type so every type is measured."""
    by_type = {}
    for r in rows:
        by_type.setdefault(r["type"], []).append(r)
    rnd = random.Random(seed)
    out = []
    per = max(1, n // max(1, len(by_type)))
    for t in sorted(by_type):
        group = by_type[t]
        out += rnd.sample(group, min(per, len(group)))
    return out


def pixel_cache_for(processor, data_dir, rows):
    from PIL import Image

    cache = {}
    for r in rows:
        if r["image"] not in cache:
            with Image.open(Path(data_dir) / r["image"]) as im:
                cache[r["image"]] = processor.image_processor(im, return_tensors="pt")["pixel_values"][0]
    return cache


def epoch_batches(rows, batch_size, rows_per_image, seed, one_phrasing=False):
    """Row indices in batches for one epoch. Rows about one image are grouped (so the image is
    encoded once for the group) and groups are shuffled and packed into batches of about
    `batch_size` rows.

    Default: every row once per epoch, each image's rows shuffled and cut into groups of
    `rows_per_image`. `one_phrasing`: each epoch takes one phrasing per (image, type), chosen at
    random, and the image's rows form one group (every attribute of an image in one step): the
    epoch is then one pass over the images rather than over every phrasing.
    """
    rnd = random.Random(seed)
    by_image = {}
    for i, r in enumerate(rows):
        by_image.setdefault(r["image"], []).append(i)
    groups = []
    for image in sorted(by_image):
        idx = by_image[image]
        if one_phrasing:
            by_type = {}
            for i in idx:
                by_type.setdefault(rows[i]["type"], []).append(i)
            groups.append([rnd.choice(by_type[t]) for t in sorted(by_type)])
        else:
            rnd.shuffle(idx)
            groups += [idx[j:j + rows_per_image] for j in range(0, len(idx), rows_per_image)]
    rnd.shuffle(groups)
    batches, current = [], []
    for g in groups:
        current += g
        if len(current) >= batch_size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def batch_inputs(rows, examples, pixels, idx, pad):
    """(distinct pixel values, image index per row, ids, labels, mask) for the rows `idx`."""
    images, image_index = [], []
    seen = {}
    for i in idx:
        name = rows[i]["image"]
        if name not in seen:
            seen[name] = len(images)
            images.append(pixels[name])
        image_index.append(seen[name])
    ids, labels, mask = collate([examples[i] for i in idx], pad)
    return torch.stack(images), torch.tensor(image_index), ids, labels, mask


def _save_state(path, model, optimizer, scheduler, epoch, history, rng_seed, vision_warmup=None):
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer and optimizer.state_dict(),
                "scheduler": scheduler and scheduler.state_dict(), "epoch": epoch, "history": history,
                "torch_rng": torch.get_rng_state(), "seed": rng_seed, "vision_warmup": vision_warmup}, tmp)
    os.replace(tmp, path)


def run(args):
    data_dir, out = Path(args.data), Path(args.out)
    if args.vision_epochs and args.train != "all":
        raise ExportError("--vision-epochs trains the vision tower: it needs --train all (BLIP-2's recipe keeps "
                          "the pre-trained tower frozen)")
    if not (data_dir / "qa.jsonl").is_file():
        raise ExportError(f"--data {data_dir}: no qa.jsonl (build one with `dataset`)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror or e}") from None
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    started = time.time()

    model, processor, base_info = load_base(args.base, args.seed)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.float().to(device)
    encoder = Encoder(model, processor)
    train_rows = dataset_.load(data_dir, "train")
    val_rows = dataset_.load(data_dir, "val")
    if not train_rows:
        raise ExportError(f"--data {data_dir}: no train rows")
    if args.max_train_rows:
        train_rows = random.Random(args.seed).sample(train_rows, min(args.max_train_rows, len(train_rows)))
    val_loss_rows = sample_rows(val_rows, args.val_loss_rows, args.seed)
    val_gen_rows = sample_rows(val_rows, args.val_samples, args.seed + 1)
    print(f"finetune: {len(train_rows)} train rows, {len(val_rows)} val rows; encoding images", flush=True)
    pixels = pixel_cache_for(processor, data_dir, train_rows + val_loss_rows + val_gen_rows)
    examples = [encoder.example(r, history) for r, history in zip(train_rows, earlier_turns(
        train_rows, args.history_fraction, args.seed))]
    val_examples = [encoder.example(r) for r in val_loss_rows]

    state_path = out / "training-state.pt"
    state = None
    if args.resume and state_path.is_file():
        state = torch.load(state_path, weights_only=False, map_location=device)
        model.load_state_dict(state["model"])
    elif args.resume:
        print(f"finetune: --resume but no {state_path}: starting from the beginning", flush=True)
    vision_report = state.get("vision_warmup") if state else None
    if args.vision_epochs and vision_report is None:
        from shoplens_export import vision_warmup

        vision_report = vision_warmup.warm_up(model, train_rows, val_loss_rows + val_gen_rows, pixels, args.vision_epochs,
                                               seed=args.seed, log=lambda m: print(m, flush=True))
        _save_state(state_path, model, None, None, -1, [], args.seed, vision_report)
    freeze_vision = args.freeze_vision or args.train == "qformer"
    encoded = encode_images(model, pixels) if freeze_vision else None
    if encoded is not None:
        print(f"finetune: vision tower frozen, {len(encoded)} images encoded once", flush=True)

    params = set_trainable(model, args.train, freeze_vision)
    n_trainable = sum(p.numel() for p in params)
    n_total = sum(p.numel() for p in model.parameters())
    lr = args.lr if args.lr is not None else (1e-4 if args.train == "qformer" else 1e-3)
    steps_per_epoch = len(epoch_batches(train_rows, args.batch_size, args.rows_per_image, 0, args.one_phrasing))
    optimizer, scheduler, warmup = training.optimizer_and_schedule(
        params, lr, args.weight_decay, steps_per_epoch * args.epochs, args.warmup_steps)
    history, start_epoch = [], 0
    if state is not None and state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start_epoch = state["history"], state["epoch"] + 1
        print(f"finetune: resumed after epoch {start_epoch} from {state_path}", flush=True)

    hyper = {"base": args.base, "train": args.train, "epochs": args.epochs, "batch_size": args.batch_size,
             "rows_per_image": "all types, one phrasing each" if args.one_phrasing else args.rows_per_image,
             "lr": lr, "weight_decay": args.weight_decay, "warmup_steps": warmup, "schedule": "warmup+cosine to 10%",
             "seed": args.seed, "optimizer": "AdamW", "trainable_parameters": n_trainable,
             "total_parameters": n_total, "stop_token_id": encoder.stop,
             "vision_epochs": args.vision_epochs, "vision_frozen": freeze_vision,
             "history_fraction": args.history_fraction}
    print(f"finetune: {n_trainable:,} of {n_total:,} parameters trainable ({args.train}); "
          f"{steps_per_epoch} steps/epoch x {args.epochs} epochs, lr {lr}", flush=True)

    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        batches = epoch_batches(train_rows, args.batch_size, args.rows_per_image, args.seed * 1000 + epoch,
                                args.one_phrasing)
        train_mode(model, args.train, freeze_vision)
        running, seen = 0.0, 0
        for step, idx in enumerate(batches):
            images, image_index, ids, labels, mask = batch_inputs(train_rows, examples, encoded or pixels, idx,
                                                                  encoder.pad)
            loss = loss_fn(model, images, ids, labels, mask, image_index, encoded=encoded is not None)
            training.step(loss, params, optimizer, scheduler)
            running += loss.item() * len(idx)
            seen += len(idx)
            if (step + 1) % args.log_every == 0 or step + 1 == steps_per_epoch:
                rate = (step + 1) / (time.time() - t0)
                print(f"epoch {epoch + 1}/{args.epochs} step {step + 1}/{steps_per_epoch} "
                      f"loss {running / seen:.4f} lr {scheduler.get_last_lr()[0]:.2e} {rate:.1f} steps/s", flush=True)
        train_loss = running / max(1, seen)
        val = evaluate_epoch(model, encoder, pixels, val_examples, val_loss_rows, val_gen_rows, args.batch_size)
        entry = {"epoch": epoch + 1, "train_loss": round(train_loss, 5), **val,
                 "seconds": round(time.time() - t0, 1)}
        history.append(entry)
        print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, val loss {val['val_loss']}, val accuracy "
              + ", ".join(f"{t} {v['accuracy']:.2f}" for t, v in val["val_accuracy"].items()), flush=True)
        _save_state(state_path, model, optimizer, scheduler, epoch, history, args.seed, vision_report)

    model.eval()
    for p in model.parameters():
        p.requires_grad = True
    model.save_pretrained(out)
    processor.save_pretrained(out)
    counts = json.loads((data_dir / "dataset.json").read_text()).get("counts") \
        if (data_dir / "dataset.json").is_file() else None
    model.to("cpu")
    report = {
        "base": base_info, "device": device, "data": str(data_dir), "data_counts": counts,
        "rows": {"train": len(train_rows), "val": len(val_rows), "val_loss_sample": len(val_loss_rows),
                 "val_generation_sample": len(val_gen_rows)},
        "hyper_parameters": hyper, "vision_warmup": vision_report, "epochs": history,
        "wall_seconds": round(time.time() - started, 1),
        "machine": {"cpu_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
                    "torch": torch.__version__, "nice": os.nice(0)},
    }
    write_report(out, report)
    if state_path.is_file() and not args.keep_state:
        state_path.unlink()
    print(f"finetune: wrote {out} in {report['wall_seconds']} s", flush=True)
    return report


def evaluate_epoch(model, encoder, pixels, val_examples, val_loss_rows, val_gen_rows, batch_size):
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(val_examples), batch_size):
            chunk = val_examples[i:i + batch_size]
            ids, labels, mask = collate(chunk, encoder.pad)
            pv = torch.stack([pixels[r["image"]] for r in val_loss_rows[i:i + batch_size]])
            total += loss_fn(model, pv, ids, labels, mask).item() * len(chunk)
            n += len(chunk)
    predictions = generate(model, encoder, val_gen_rows, pixels, batch_size) if val_gen_rows else []
    return {"val_loss": round(total / n, 5) if n else None,
            "val_accuracy": score(val_gen_rows, predictions)}


def write_report(out, report):
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    h = report["hyper_parameters"]
    lines = ["# Fine-tuning report", "",
             f"- base: `{json.dumps(report['base'])}`, train: `{h['train']}` "
             f"({h['trainable_parameters']:,} of {h['total_parameters']:,} parameters trainable)",
             f"- data: `{report['data']}`: {report['rows']['train']} train rows, {report['rows']['val']} val rows "
             f"(val loss on {report['rows']['val_loss_sample']}, greedy accuracy on "
             f"{report['rows']['val_generation_sample']})",
             f"- epochs {h['epochs']}, batch {h['batch_size']} rows ({h['rows_per_image']} per image), AdamW lr {h['lr']} ({h['schedule']}, warm-up "
             f"{h['warmup_steps']} steps), weight decay {h['weight_decay']}, seed {h['seed']}",
             f"- wall time {report['wall_seconds']} s on {report['machine']['cpu_threads']} CPU threads "
             f"({report['machine']['cpus']} CPUs; load average at the end {report['machine']['load_average_at_end']})",
             ]
    warm = report.get("vision_warmup")
    if warm:
        then = "then the tower was frozen" if h.get("vision_frozen") else "then everything trained"
        heads = list(warm["epochs"][-1]["val_accuracy"])
        lines += ["", f"Vision warm-up: {len(warm['epochs'])} epochs on {warm['train_images']} train images "
                      f"(heads on the mean of the tower's output tokens, lr {warm['lr']}, batch {warm['batch_size']}); "
                      f"{then}.", "",
                  "| warm-up epoch | loss | " + " | ".join(f"val {t}" for t in heads) + " | seconds |",
                  "|" + "---|" * (len(heads) + 3)]
        for e in warm["epochs"]:
            lines.append(f"| {e['epoch']} | {e['loss']:.4f} | "
                         + " | ".join(f"{e['val_accuracy'][t]:.3f}" for t in heads) + f" | {e['seconds']} |")
    if report["epochs"]:
        types = sorted(report["epochs"][-1]["val_accuracy"])
        lines += ["", "| epoch | train loss | val loss | " + " | ".join(types) + " | seconds |",
                  "|" + "---|" * (len(types) + 4)]
        for e in report["epochs"]:
            acc = " | ".join(f"{e['val_accuracy'].get(t, {}).get('accuracy', float('nan')):.3f}" for t in types)
            lines.append(f"| {e['epoch']} | {e['train_loss']:.4f} | {e['val_loss']} | {acc} | {e['seconds']} |")
        lines += ["", "Val accuracy is exact match after lower-casing (captions: names the right colour and kind), "
                      "greedy decoding with Hugging Face's generate() on a stratified sample of the val split."]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
