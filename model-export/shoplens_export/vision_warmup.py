"""The vision warm-up of `finetune --train all --vision-epochs N`: supervised pre-training of a
from-scratch vision tower on the dataset's own image labels, before the language-model phase.

Why: BLIP-2 never trains its image encoder; it starts from a pre-trained one (EVA-CLIP ViT-g) and
freezes it. A model trained from random weights has no such encoder, and learning one through the
language-model loss alone is slow: the answer tokens' gradient reaches the vision tower through the
Q-Former's near-uniform cross-attention, which passes colour and texture (they survive averaging)
but not shape, so the demo model never learned the garment kind that way (models/fashion-blip2-opt,
README). Here the tower learns the image-level attributes first — one linear head per attribute
(category, colour, pattern) on the mean of its output tokens, the heads discarded afterwards — so
that the mean of its features, which is what a near-uniform Q-Former sees at first, already
separates the attributes. The language-model phase then freezes the tower, as BLIP-2 does.

Only the train split's images and answers are used: the labels are the catalog's annotations that
the dataset already holds (rows of types category, colour and pattern), nothing else.
"""

import math
import time

import torch

# Image-level attributes whose answers label an image (one answer per image and type).
LABEL_TYPES = ("category", "colour", "pattern")


def image_labels(rows, vocab=None, types=LABEL_TYPES):
    """Returns (images, vocab, labels): the distinct images in first-seen order, per type the sorted
    answers (`vocab`, or those seen in `rows`), and a [n_images, n_types] long tensor: the answer's
    index, -100 where an image has no row of that type, -1 where its answer is not in `vocab` (a val
    answer the train split never gave: always a miss)."""
    per_image = {}
    for r in rows:
        if r["type"] in types:
            per_image.setdefault(r["image"], {})[r["type"]] = r["answer"].strip().lower()
    images = list(per_image)
    if vocab is None:
        vocab = {t: sorted({a[t] for a in per_image.values() if t in a}) for t in types}
    labels = torch.full((len(images), len(types)), -100, dtype=torch.long)
    for i, image in enumerate(images):
        for j, t in enumerate(types):
            if t in per_image[image]:
                answer = per_image[image][t]
                labels[i, j] = vocab[t].index(answer) if answer in vocab[t] else -1
    return images, vocab, labels


def shifted(pixel_values, max_shift, generator):
    """Each image moved by its own random offset of up to `max_shift` pixels in x and y, the edge
    pixels repeated into the gap: the photos' framing varies, the product does not."""
    if max_shift <= 0:
        return pixel_values
    n, _, h, w = pixel_values.shape
    padded = torch.nn.functional.pad(pixel_values, (max_shift,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])


def pooled(vision_model, pixel_values):
    """The mean of the vision tower's output tokens (after its final layer norm)."""
    return vision_model(pixel_values, return_dict=True).last_hidden_state.mean(1)


def _accuracy(vision_model, heads, pixels, labels, batch_size):
    vision_model.eval()
    hits = torch.zeros(labels.shape[1])
    counts = (labels != -100).sum(0).clamp(min=1)  # -1 (unknown answer) counts, and misses
    with torch.no_grad():
        for i in range(0, len(pixels), batch_size):
            f = pooled(vision_model, pixels[i:i + batch_size])
            y = labels[i:i + batch_size]
            for j, head in enumerate(heads):
                hits[j] += (head(f).argmax(1) == y[:, j]).sum().item()
    return [round(h / c, 4) for h, c in zip(hits.tolist(), counts.tolist())]


def warm_up(model, train_rows, val_rows, pixel_cache, epochs, batch_size=128, lr=2e-3, weight_decay=0.05,
            seed=0, max_shift=None, log=print):
    """Trains `model.vision_model` (in place) for `epochs` passes over the train images, each image
    shifted at random by up to `max_shift` pixels (default: a tenth of the image size) every time
    it is seen; returns the report section (vocabularies, per-epoch loss and val accuracy per
    attribute)."""
    vision = model.vision_model
    if max_shift is None:
        max_shift = round(vision.config.image_size / 10)
    device = model.query_tokens.device
    images, vocab, labels = image_labels(train_rows)
    if not images:
        raise ValueError("vision warm-up: the train split has no category, colour or pattern rows to learn from")
    val_images, _, val_labels = image_labels(val_rows, vocab)
    pixels = torch.stack([pixel_cache[i] for i in images]).to(device)
    val_pixels = torch.stack([pixel_cache[i] for i in val_images]).to(device) if val_images else None
    labels = labels.to(device)
    gen = torch.Generator().manual_seed(seed)
    heads = torch.nn.ModuleList([torch.nn.Linear(vision.config.hidden_size, max(1, len(vocab[t])))
                                 for t in LABEL_TYPES]).to(device)
    params = list(vision.parameters()) + list(heads.parameters())
    for p in vision.parameters():
        p.requires_grad = True
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    steps_per_epoch = max(1, math.ceil(len(images) / batch_size))
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)

    def schedule(step):  # linear warm-up over the first tenth, then cosine to zero
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = []
    log(f"vision warm-up: {len(images)} train images, heads "
        + ", ".join(f"{t} ({len(vocab[t])})" for t in LABEL_TYPES) + f"; {steps_per_epoch} steps/epoch x {epochs} epochs")
    for epoch in range(epochs):
        t0 = time.time()
        vision.train()
        heads.train()
        order = torch.randperm(len(images), generator=gen)
        running = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * batch_size:(s + 1) * batch_size]
            f = pooled(vision, shifted(pixels[idx], max_shift, gen).to(device))
            y = labels[idx.to(device)]
            loss = sum(torch.nn.functional.cross_entropy(head(f), y[:, j], ignore_index=-100)
                       for j, head in enumerate(heads) if (y[:, j] != -100).any())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            running += loss.item()
        accuracy = _accuracy(vision, heads, val_pixels, val_labels, batch_size) if val_pixels is not None else []
        entry = {"epoch": epoch + 1, "loss": round(running / steps_per_epoch, 5),
                 "val_accuracy": dict(zip(LABEL_TYPES, accuracy)), "seconds": round(time.time() - t0, 1)}
        history.append(entry)
        log(f"vision warm-up epoch {epoch + 1}/{epochs}: loss {entry['loss']:.4f}, val accuracy "
            + ", ".join(f"{t} {a:.3f}" for t, a in entry["val_accuracy"].items()) + f" ({entry['seconds']} s)")
    vision.eval()
    return {"epochs": history, "train_images": len(images), "val_images": len(val_images),
            "vocabulary": vocab, "batch_size": batch_size, "lr": lr, "max_shift_px": max_shift, "seed": seed}

