"""`finetune-retrieval`: trains a BLIP-2 image-text retrieval model (`Blip2ForImageTextRetrieval`)
on a catalog dataset, on top of a trained generation model's frozen vision tower.

BLIP-2's recipe: the image encoder is pre-trained and frozen, the Q-Former learns image-text
contrastive learning (ITC) and image-text matching (ITM). Here the "pre-trained" tower is the one
`finetune --vision-epochs` warmed up for the demo generation model: it is copied unchanged (so the
retrieval bundle's `vision_tower_sha256` equals the generation checkpoint's, and the engine can run
the tower once per image for both models) and kept frozen, so its output is computed once per image
and every epoch only runs the Q-Former.

Texts are built from each product's catalog attributes ("white sneakers", "a blue striped cotton
shirt", "formal dress"), a new random description per product and epoch. Many products fit a short
description, so a batch holds several right images for one text: as BLIP's retrieval fine-tuning
does for captions of the same image, every image whose attributes satisfy a text is a positive of
that text (ITC targets spread over them) and is never drawn as its hard negative. ITM takes, per
image and per text, one hard negative drawn in proportion to the ITC similarity (BLIP-2).

The evaluation (`evaluate_bundle`) runs the exported bundle on Python ONNX Runtime over products
that were never trained on (the dataset's test split): text->product recall and precision for
attribute queries, image->product precision of the same kind, scored exactly as the Java engine
ranks (ITC similarity: the maximum over an image's query vectors; an image query uses its pooled,
normalised mean vector).
"""

import hashlib
import json
import math
import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from shoplens_export import dataset as dataset_
from shoplens_export import training
from shoplens_export.errors import ExportError

# The catalog's attributes a text can name (catalog.py), in the order they are written.
TEXT_ATTRIBUTES = ("style", "colour", "pattern", "material", "category")
PLURALS = {"shirt": "shirts", "t-shirt": "t-shirts", "dress": "dresses", "skirt": "skirts", "handbag": "handbags",
           "hat": "hats"}
# Words a shopper uses that the catalog's vocabulary does not: they name the same value.
SYNONYMS = {"grey": ["grey", "gray"], "solid": ["plain", "solid"], "t-shirt": ["t-shirt", "tee"],
            "handbag": ["handbag", "bag"]}
PREFIXES = ("", "", "", "a ", "show me ", "looking for ", "i want ")


@dataclass(frozen=True)
class Size:
    """The Q-Former and the shared space. The vision side is the generation model's."""
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 256
    num_query_tokens: int = 8
    embed_dim: int = 256  # BLIP-2's ITC space
    vocab_size: int = 400
    max_text_length: int = 32
    # As the fashion generation preset (presets.FASHION): a wider initialisation than Hugging Face's
    # 0.02 so that the Q-Former's output depends on the image early in training.
    initializer_range: float = 0.1
    query_token_std: float = 1.0


FASHION = Size()
TINY = Size(hidden_size=32, num_hidden_layers=1, intermediate_size=37, num_query_tokens=4, embed_dim=16)


# ----------------------------------------------------------------------------- texts

def describe(attrs, rnd):
    """A random description of a product: `(text, named)` where `named` holds the attributes the
    text constrains (the kind always; colour, pattern, material and style sometimes)."""
    kind = attrs["category"]
    named = {"category": kind}
    for name, p in (("colour", 0.75), ("pattern", 0.45), ("material", 0.2), ("style", 0.15)):
        if name in attrs and rnd.random() < p:
            named[name] = attrs[name]
    words = []
    for name in TEXT_ATTRIBUTES:
        if name not in named:
            continue
        value = named[name]
        if name == "pattern" and value == "solid" and rnd.random() < 0.5:
            del named[name]  # "a white shirt" says nothing about the pattern
            continue
        options = SYNONYMS.get(value, [value])
        word = rnd.choice(options)
        if name == "category" and kind in PLURALS and rnd.random() < 0.3:
            word = PLURALS[kind] if word == kind else word + "s"
        words.append(word)
    if "colour" in named and rnd.random() < 0.15:  # "sneakers in white"
        colour = words.pop(list(n for n in TEXT_ATTRIBUTES if n in named).index("colour"))
        words.append("in " + colour)
    return rnd.choice(PREFIXES) + " ".join(words), named


def satisfies(product_attrs, named):
    """Whether a product has every attribute value a text names."""
    return all(product_attrs.get(k) == v for k, v in named.items())


def vocabulary_words():
    """Every word the descriptions use, for the tokenizer (catalog.py's vocabulary and the above)."""
    from shoplens_export import catalog

    words = []
    for values in catalog.vocabulary().values():
        words += values
    words += list(PLURALS.values()) + [w for ws in SYNONYMS.values() for w in ws]
    words += " ".join(PREFIXES).split() + ["in", "t", "-", "shirt", "tee", "colour", "color", "shoes", "other",
                                           "colours", "colors"]
    out = []
    for w in words:
        for part in w.replace("-", " - ").split():
            if part not in out:
                out.append(part)
    return out


def tokenizer(size):
    """The Q-Former's uncased WordPiece tokenizer: the catalog's words whole, then the built-in
    corpus's most frequent ones, then every character as a fallback (retrieval.train_tokenizer)."""
    from shoplens_export import retrieval

    return retrieval.hf_tokenizer(retrieval.train_tokenizer(size.vocab_size, first_words=vocabulary_words()),
                                  size.max_text_length)


# ----------------------------------------------------------------------------- model

def load_generation(path):
    """The trained generation model (a `finetune` checkpoint directory) and its processor."""
    from shoplens_export import finetune

    if not (Path(path) / "config.json").is_file():
        raise ExportError(f"--generation {path}: no config.json (expected a `finetune` checkpoint directory)")
    model, processor, _ = finetune.load_base(str(path), 0)
    return model, processor


def build(generation, size=FASHION, seed=0):
    """A `Blip2ForImageTextRetrieval` whose vision tower is a copy of `generation`'s (same config,
    same weights) and whose Q-Former, query tokens, projections and ITM head are new (seeded)."""
    from transformers import Blip2Config, Blip2ForImageTextRetrieval

    vision = generation.config.vision_config
    tok = tokenizer(size)
    config = Blip2Config(
        vision_config=vision.to_dict(),
        qformer_config=dict(vocab_size=len(tok), pad_token_id=tok.pad_token_id, hidden_size=size.hidden_size,
                            num_hidden_layers=size.num_hidden_layers, num_attention_heads=size.num_attention_heads,
                            intermediate_size=size.intermediate_size, max_position_embeddings=size.max_text_length,
                            cross_attention_frequency=1, encoder_hidden_size=vision.hidden_size,
                            initializer_range=size.initializer_range, use_qformer_text_input=True),
        num_query_tokens=size.num_query_tokens, image_text_hidden_size=size.embed_dim)
    torch.manual_seed(seed)
    model = Blip2ForImageTextRetrieval(config)
    with torch.no_grad():
        model.query_tokens.normal_(0.0, size.query_token_std)
    model.vision_model.load_state_dict(generation.vision_model.state_dict())
    for p in model.vision_model.parameters():
        p.requires_grad = False
    return model, tok


def vision_tower_sha256(vision_model):
    """The checksum the retrieval manifest carries (retrieval._vision_tower_sha256), of any tower."""
    h = hashlib.sha256()
    for name, t in sorted(vision_model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def image_features(model, image_embeds):
    """[B,P,Hv] frozen-tower output -> [B,Q,D] normalised query features (RetrievalVisionGraph)."""
    queries = model.query_tokens.expand(image_embeds.shape[0], -1, -1)
    out = model.qformer(query_embeds=queries, encoder_hidden_states=image_embeds, return_dict=True).last_hidden_state
    return torch.nn.functional.normalize(model.vision_projection(out), dim=-1)


def text_features(model, ids, mask):
    """[B,T] -> [B,D] normalised [CLS] features (RetrievalTextGraph)."""
    out = model.qformer(query_embeds=model.embeddings(input_ids=ids), query_length=0, attention_mask=mask,
                        return_dict=True).last_hidden_state
    return torch.nn.functional.normalize(model.text_projection(out[:, 0, :]), dim=-1)


def itm_logits(model, image_embeds, ids, mask):
    """[B,2] (no match, match) for the pairs (image i, text i) (RetrievalItmGraph)."""
    from shoplens_export.retrieval_graphs import RetrievalItmGraph

    return RetrievalItmGraph(model)(image_embeds, ids, mask)


def hard_negatives(logits, positives, generator):
    """Per row, one column that is not a positive, drawn with probability softmax(logits) among the
    non-positives (BLIP-2's hard negative mining). Returns (columns, found): a row whose columns are
    all positives gets its own index and found False (it then trains as a match)."""
    with torch.no_grad():
        found = (~positives).any(1)
        weights = torch.softmax(logits.float(), 1).masked_fill(positives, 0) + 1e-12 * (~positives)
        weights = torch.where(found[:, None], weights, torch.ones_like(weights))
        drawn = torch.multinomial(weights, 1, generator=generator)[:, 0]
        return torch.where(found, drawn, torch.arange(logits.shape[0])), found


def losses(model, log_temp, image_embeds, ids, mask, positives, generator, itm_rows=None):
    """ITC and ITM losses of one batch: image i and text i describe the same product; `positives`
    [B,B] is True where text j fits image i (the diagonal included). ITM runs on the first
    `itm_rows` rows only (all by default): its pairs carry text and queries through the Q-Former
    with cross-attention, three per row, and dominate a step's cost; the batch is shuffled, so the
    first rows are a random sample."""
    feats = image_features(model, image_embeds)  # [B,Q,D]
    text = text_features(model, ids, mask)  # [B,D]
    temp = log_temp.exp().clamp(0.001, 0.5)
    sim = torch.einsum("iqd,td->itq", feats, text).max(dim=-1).values  # [images, texts]
    i2t, t2i = sim / temp, sim.t() / temp
    target_i2t = positives.float() / positives.sum(1, keepdim=True)
    target_t2i = positives.t().float() / positives.t().sum(1, keepdim=True)
    itc = (-(torch.log_softmax(i2t, 1) * target_i2t).sum(1).mean()
           - (torch.log_softmax(t2i, 1) * target_t2i).sum(1).mean()) / 2

    b = sim.shape[0] if itm_rows is None else min(itm_rows, sim.shape[0])
    neg_image, has_t2i = hard_negatives(t2i[:b], positives.t()[:b], generator)
    neg_text, has_i2t = hard_negatives(i2t[:b], positives[:b], generator)
    full_embeds, image_embeds = image_embeds, image_embeds[:b]
    pair_images = torch.cat([image_embeds, full_embeds[neg_image], image_embeds])
    pair_ids = torch.cat([ids[:b], ids[:b], ids[neg_text]])
    pair_mask = torch.cat([mask[:b], mask[:b], mask[neg_text]])
    labels = torch.cat([torch.ones(b, dtype=torch.long),
                        (has_t2i.logical_not()).long(), (has_i2t.logical_not()).long()])
    itm = torch.nn.functional.cross_entropy(itm_logits(model, pair_images, pair_ids, pair_mask), labels)
    return itc, itm


# ----------------------------------------------------------------------------- data

def load_products(data_dir, splits):
    """Per split, the products of a `dataset` directory: (productId, image path, attributes)."""
    data_dir = Path(data_dir)
    split_of, image_of = {}, {}
    for r in dataset_.load(data_dir):
        split_of[r["productId"]] = r["split"]
        image_of[r["productId"]] = r["image"]
    path = data_dir / "products.jsonl"
    if not path.is_file():
        raise ExportError(f"{data_dir}: no products.jsonl (build the dataset from a catalog with `dataset`)")
    out = {s: [] for s in splits}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            p = json.loads(line)
            split = split_of.get(p["productId"])
            if split in out:
                attrs = {k: str(v) for k, v in p["attributes"].items()}
                out[split].append((p["productId"], image_of[p["productId"]], attrs))
    return out


def pixel_values(image_processor, data_dir, images):
    from PIL import Image

    arrays = []
    for name in images:
        with Image.open(Path(data_dir) / name) as im:
            arrays.append(image_processor(im, return_tensors="pt")["pixel_values"][0])
    return torch.stack(arrays)


def encode(vision_model, image_processor, data_dir, images, batch_size=64):
    """The frozen tower's output [N,P,Hv] for the images, computed once."""
    vision_model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            pv = pixel_values(image_processor, data_dir, images[i:i + batch_size])
            out.append(vision_model(pv, return_dict=True).last_hidden_state)
    return torch.cat(out)


def tokenize(tok, texts):
    enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


# ----------------------------------------------------------------------------- training

def run(args):
    data_dir, out = Path(args.data), Path(args.out)
    size = {"fashion": FASHION, "tiny": TINY}[args.size]
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    started = time.time()
    import transformers

    transformers.logging.set_verbosity_error()
    generation, processor = load_generation(args.generation)
    model, tok = build(generation, size, args.seed)
    tower_sha = vision_tower_sha256(generation.vision_model)
    if vision_tower_sha256(model.vision_model) != tower_sha:
        raise ExportError("the copied vision tower does not hash like the generation model's")
    del generation
    image_processor = processor.image_processor

    products = load_products(data_dir, ("train", "val"))
    train = products["train"][:args.max_products] if args.max_products else products["train"]
    val = products["val"][:args.val_products]
    if len(train) < 2:
        raise ExportError(f"--data {data_dir}: {len(train)} train products, need at least 2")
    t0 = time.time()
    embeds = encode(model.vision_model, image_processor, data_dir, [p[1] for p in train])
    val_embeds = encode(model.vision_model, image_processor, data_dir, [p[1] for p in val]) if val else None
    encode_seconds = round(time.time() - t0, 1)
    print(f"finetune-retrieval: {len(train)} train, {len(val)} val products; frozen tower encoded them once in "
          f"{encode_seconds} s", flush=True)

    log_temp = torch.nn.Parameter(torch.tensor(math.log(0.07)))
    params = [p for p in model.parameters() if p.requires_grad] + [log_temp]
    n_trainable = sum(p.numel() for p in params)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    optimizer, scheduler, warmup = training.optimizer_and_schedule(
        params, args.lr, args.weight_decay, steps_per_epoch * args.epochs, args.warmup_steps)
    generator = torch.Generator().manual_seed(args.seed)
    history = []
    for epoch in range(args.epochs):
        t0 = time.time()
        rnd = random.Random(args.seed * 1000 + epoch)
        order = list(range(len(train)))
        rnd.shuffle(order)
        model.train()
        model.vision_model.eval()
        sums = [0.0, 0.0]
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            if len(idx) < 2:
                continue
            described = [describe(train[i][2], rnd) for i in idx]
            ids, mask = tokenize(tok, [d[0] for d in described])
            positives = torch.tensor([[satisfies(train[i][2], d[1]) for d in described] for i in idx])
            itc, itm = losses(model, log_temp, embeds[idx], ids, mask, positives, generator, args.itm_rows)
            training.step(itc + itm, params, optimizer, scheduler)
            sums[0] += itc.item()
            sums[1] += itm.item()
            if (step + 1) % args.log_every == 0:
                print(f"epoch {epoch + 1}/{args.epochs} step {step + 1}/{steps_per_epoch} itc {sums[0] / (step + 1):.4f} "
                      f"itm {sums[1] / (step + 1):.4f} temp {log_temp.exp().item():.4f}", flush=True)
        entry = {"epoch": epoch + 1, "itc_loss": round(sums[0] / steps_per_epoch, 5),
                 "itm_loss": round(sums[1] / steps_per_epoch, 5), "temperature": round(log_temp.exp().item(), 5)}
        if val:
            entry.update(validate(model, tok, val, val_embeds))
        entry["seconds"] = round(time.time() - t0, 1)
        history.append(entry)
        print(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v}" for k, v in entry.items() if k != "epoch"), flush=True)

    model.eval()
    for p in model.parameters():
        p.requires_grad = True
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    image_processor.save_pretrained(out)
    report = {
        "generation_checkpoint": str(args.generation), "vision_tower_sha256": tower_sha, "data": str(data_dir),
        "products": {"train": len(train), "val": len(val)},
        "hyper_parameters": {"size": args.size, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                             "weight_decay": args.weight_decay, "warmup_steps": warmup, "itm_rows": args.itm_rows,
                             "schedule": "warmup+cosine to 10%", "seed": args.seed, "optimizer": "AdamW",
                             "losses": "ITC (attribute-matching multi-positive targets, learnt temperature) + ITM "
                                       "(one ITC-weighted hard negative per image and per text)",
                             "trainable_parameters": n_trainable,
                             "qformer": {k: getattr(size, k) for k in Size.__dataclass_fields__}},
        "encode_seconds": encode_seconds, "epochs": history, "wall_seconds": round(time.time() - started, 1),
        "machine": {"cpu_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "torch": torch.__version__},
    }
    write_train_report(out, report)
    print(f"finetune-retrieval: wrote {out} in {report['wall_seconds']} s", flush=True)
    return report


def write_train_report(out, report):
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    h = report["hyper_parameters"]
    lines = ["# Retrieval training report", "",
             f"- generation checkpoint (frozen vision tower, sha256 `{report['vision_tower_sha256'][:16]}…`): "
             f"`{report['generation_checkpoint']}`",
             f"- data: `{report['data']}`: {report['products']['train']} train products, {report['products']['val']} "
             f"val products (measured after each epoch)",
             f"- {h['losses']}",
             f"- epochs {h['epochs']}, batch {h['batch_size']} products, AdamW lr {h['lr']} ({h['schedule']}, warm-up "
             f"{h['warmup_steps']} steps), weight decay {h['weight_decay']}, seed {h['seed']}; "
             f"{h['trainable_parameters']:,} parameters trained",
             f"- frozen tower run once over the images in {report['encode_seconds']} s; wall time "
             f"{report['wall_seconds']} s on {report['machine']['cpu_threads']} CPU threads "
             f"({report['machine']['cpus']} CPUs; load average at the end {report['machine']['load_average_at_end']})",
             "", "| epoch | ITC loss | ITM loss | temperature | val text R@1 | val text P@10 | val image same kind P@5 "
                 "| seconds |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in report["epochs"]:
        lines.append(f"| {e['epoch']} | {e['itc_loss']:.4f} | {e['itm_loss']:.4f} | {e['temperature']:.4f} | "
                     f"{e.get('val_text_r1', float('nan')):.3f} | {e.get('val_text_p10', float('nan')):.3f} | "
                     f"{e.get('val_image_same_kind_p5', float('nan')):.3f} | {e['seconds']} |")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def validate(model, tok, products, embeds):
    """Quick held-out numbers each epoch (PyTorch, the val split): text->product R@1 over the
    evaluation queries, image->same kind precision@5."""
    model.eval()
    with torch.no_grad():
        feats = torch.cat([image_features(model, embeds[i:i + 256]) for i in range(0, len(embeds), 256)]).numpy()
        queries = eval_queries([p[2] for p in products])
        ids, mask = tokenize(tok, [q[0] for q in queries])
        text = text_features(model, ids, mask).numpy()
    model.train()
    model.vision_model.eval()
    m = ranking_metrics(feats, text, queries, [p[2] for p in products])
    return {"val_text_r1": m["text_to_product"]["all"]["recall@1"],
            "val_text_p10": m["text_to_product"]["all"]["precision@10"],
            "val_image_same_kind_p5": m["image_to_product"]["same_kind_precision@5"]}


# ----------------------------------------------------------------------------- evaluation

def eval_queries(attrs_list):
    """Shopper-style queries (text, named attributes) over the values present in `attrs_list`:
    every kind ("sneakers"), colour and kind ("white sneakers"), pattern and kind ("striped
    shirt"), colour, pattern and kind ("red dotted dress"); those no product satisfies are left out."""
    from shoplens_export import catalog

    kinds, colours = list(catalog.KINDS), list(catalog.COLOURS)
    patterns = [p for p in catalog.PATTERNS if p != "solid"]
    candidates = [(k, {"category": k}) for k in kinds]
    candidates += [(f"{c} {k}", {"category": k, "colour": c}) for k in kinds for c in colours]
    candidates += [(f"{p} {k}", {"category": k, "pattern": p}) for k in kinds for p in patterns]
    candidates += [(f"{c} {p} {k}", {"category": k, "colour": c, "pattern": p})
                   for k in kinds for c in colours for p in patterns]
    return [q for q in candidates if any(satisfies(a, q[1]) for a in attrs_list)]


def _kind_of_query(named):
    return "+".join(n for n in ("colour", "pattern") if n in named) or "kind"


def ranking_metrics(image_feats, text_feats, queries, attrs_list):
    """`image_feats` [N,Q,D], `text_feats` [T,D] (normalised), as the Java engine scores them."""
    sim = np.einsum("nqd,td->tnq", image_feats, text_feats).max(axis=-1)  # [T,N]
    per_type = {}
    for t, (text, named) in enumerate(queries):
        relevant = np.array([satisfies(a, named) for a in attrs_list])
        order = np.argsort(-sim[t], kind="stable")
        top = relevant[order[:10]]
        row = {"r1": float(top[0]), "r10": float(top.any()), "p10": float(top.sum() / min(10, relevant.sum())),
               "rank": int(np.argmax(relevant[order])) + 1}
        for key in ("all", _kind_of_query(named)):
            per_type.setdefault(key, []).append(row)
    text_metrics = {k: {"queries": len(v), "recall@1": round(np.mean([r["r1"] for r in v]), 4),
                        "recall@10": round(np.mean([r["r10"] for r in v]), 4),
                        "precision@10": round(np.mean([r["p10"] for r in v]), 4),
                        "mean_first_relevant_rank": round(np.mean([r["rank"] for r in v]), 2)}
                    for k, v in per_type.items()}
    pooled = image_feats.mean(axis=1)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
    isim = np.einsum("md,nqd->mnq", pooled, image_feats).max(axis=-1)
    np.fill_diagonal(isim, -np.inf)
    kinds = np.array([a["category"] for a in attrs_list])
    colours = np.array([a.get("colour") for a in attrs_list])
    top5 = np.argsort(-isim, axis=1, kind="stable")[:, :5]
    same_kind = (kinds[top5] == kinds[:, None]).mean()
    same_both = ((kinds[top5] == kinds[:, None]) & (colours[top5] == colours[:, None])).mean()
    return {"text_to_product": text_metrics,
            "image_to_product": {"images": len(attrs_list), "same_kind_precision@5": round(float(same_kind), 4),
                                 "same_kind_and_colour_precision@5": round(float(same_both), 4)}}


EXAMPLE_QUERIES = ("white sneakers", "red dress", "blue striped shirt", "black boots", "yellow handbag",
                   "green hat", "pink dotted skirt", "grey trousers")


def evaluate_bundle(bundle_dir, data_dir, split="test", limit=None):
    """Runs the exported bundle (Python ONNX Runtime) on the split's products: the held-out numbers."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    bundle_dir, data_dir = Path(bundle_dir), Path(data_dir)
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    products = load_products(data_dir, (split,))[split]
    if limit:
        products = products[:limit]
    if not products:
        raise ExportError(f"--data {data_dir}: no {split} products")
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    v = manifest["vision"]
    ip = BlipImageProcessorPil(size={"height": v["image_size"], "width": v["image_size"]},
                               image_mean=v["image_mean"], image_std=v["image_std"])
    vision = ort.InferenceSession(str(bundle_dir / "vision.onnx"), providers=["CPUExecutionProvider"])
    text = ort.InferenceSession(str(bundle_dir / "text.onnx"), providers=["CPUExecutionProvider"])
    feats = []
    t0 = time.time()
    for i in range(0, len(products), 64):
        pv = pixel_values(ip, data_dir, [p[1] for p in products[i:i + 64]]).numpy()
        feats.append(vision.run(["image_features"], {"pixel_values": pv})[0])
    feats = np.concatenate(feats)
    image_seconds = time.time() - t0
    attrs = [p[2] for p in products]
    queries = eval_queries(attrs)
    tok = Tokenizer.from_file(str(bundle_dir / "tokenizer.json"))
    max_len = manifest["retrieval"]["max_text_length"]

    def embed(texts):
        rows = [tok.encode(t).ids[:max_len] for t in texts]
        width = max(len(r) for r in rows)
        ids = np.array([r + [0] * (width - len(r)) for r in rows], np.int64)
        mask = np.array([[1] * len(r) + [0] * (width - len(r)) for r in rows], np.int64)
        return text.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    text_feats = embed([q[0] for q in queries])
    metrics = ranking_metrics(feats, text_feats, queries, attrs)
    examples = []
    ex_sim = np.einsum("nqd,td->tnq", feats, embed(list(EXAMPLE_QUERIES))).max(axis=-1)
    for t, q in enumerate(EXAMPLE_QUERIES):
        order = np.argsort(-ex_sim[t], kind="stable")[:5]
        examples.append({"query": q, "top5": [{"productId": products[j][0], "similarity": round(float(ex_sim[t, j]), 4),
                                               **{k: attrs[j][k] for k in ("colour", "pattern", "category")}}
                                              for j in order]})
    return {"bundle": manifest["model_version"], "data": str(data_dir), "split": split, "products": len(products),
            "queries": len(queries), **metrics, "examples": examples,
            "image_seconds_per_image": round(image_seconds / len(products), 5)}


def write_eval_report(report, path):
    path = Path(path)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    t = report["text_to_product"]
    lines = [f"# Retrieval evaluation: {report['bundle']}", "",
             f"{report['products']} products of the `{report['split']}` split (never trained on), "
             f"{report['queries']} attribute queries. A product is relevant when it has every attribute the query "
             f"names. Scores as the Java engine ranks: ITC similarity, the maximum over an image's query vectors.", "",
             "| queries | n | recall@1 | recall@10 | precision@10 | mean rank of the first relevant |",
             "|---|---:|---:|---:|---:|---:|"]
    for k in ("all", "kind", "colour", "pattern", "colour+pattern"):
        if k in t:
            lines.append(f"| {k if k != 'all' else 'all'} | {t[k]['queries']} | {t[k]['recall@1']:.3f} | "
                         f"{t[k]['recall@10']:.3f} | {t[k]['precision@10']:.3f} | "
                         f"{t[k]['mean_first_relevant_rank']} |")
    im = report["image_to_product"]
    lines += ["", "recall@1: the first product is relevant; recall@10: one of the first ten is; precision@10: "
                  "relevant share of the first ten (of min(10, relevant)).", "",
              f"Image -> product ({im['images']} images, each against the others by its pooled feature, as related "
              f"products are found): same kind precision@5 {im['same_kind_precision@5']:.3f}, same kind and colour "
              f"{im['same_kind_and_colour_precision@5']:.3f}.", "", "Examples (top 5):", ""]
    for e in report["examples"]:
        lines.append(f"- `{e['query']}`: " + "; ".join(
            f"{h['colour']} {'' if h['pattern'] == 'solid' else h['pattern'] + ' '}{h['category']} ({h['similarity']:.3f})"
            for h in e["top5"]))
    path.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def export(checkpoint, out, model_id):
    """The trained checkpoint to a retrieval bundle (retrieval.export_retrieval)."""
    from shoplens_export import retrieval

    model, tok, ip = retrieval.checkpoint(checkpoint)
    return retrieval.export_retrieval(model, tok, ip, out, model_id=model_id,
                                      name=model_id.rstrip("/").split("/")[-1])
