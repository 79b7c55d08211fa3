"""The training set format (docs/dataset.md) and the `dataset` command that builds it.

A dataset directory holds `images/`, `qa.jsonl` (one question/answer or caption per line) and
`dataset.json` (counts per split and type, the answer vocabulary, the skipped rows). It is built
from a catalog (`products.jsonl` + images, as `catalog` writes or the catalog topic holds) and
optional curated JSONL files in the qa.jsonl format. Splits are by product: every row of a product
is in the same split, so val and test products are never seen in training.
"""

import hashlib
import json
import random
import shutil
from pathlib import Path

from shoplens_export.errors import ExportError

FORMAT_VERSION = 1
TYPES = ("category", "colour", "material", "pattern", "style", "rule", "caption")
SPLITS = ("train", "val", "test")
# Attribute name in products.jsonl -> question type. "outdoor" is the footwear rule.
ATTRIBUTE_TYPES = {"category": "category", "colour": "colour", "material": "material", "pattern": "pattern",
                   "style": "style", "outdoor": "rule"}
PLURAL_KINDS = {"trousers", "sneakers", "boots", "heels"}

# The first template of each type is exactly the Java topology's attribute prompt
# (TopologyConfig.DEFAULT_ATTRIBUTE_PROMPTS); {kind} is the product's category word.
TEMPLATES = {
    "category": ["What type of product is this?", "What is this?", "What kind of item is this?",
                 "What is shown in the picture?"],
    "colour": ["What colour is it?", "what colour {are} the {kind}?", "What color {is_this} {kind}?",
               "What colour is this product?", "What color is it?"],
    "material": ["What material is it made of?", "What {is_this} {kind} made of?", "What is the material?"],
    "pattern": ["What pattern does it have?", "What pattern is on the {kind}?", "What is the pattern?"],
    "style": ["What style is it?", "What style {is_this} {kind}?", "Is this casual, formal or sporty?"],
    "rule": ["Is this shoe suitable for outdoor activities?", "{Are_these} {kind} suitable for outdoor activities?",
             "Can I wear this for outdoor activities?"],
}


def questions(qtype, kind):
    """Every phrasing of a question type for a product of this kind."""
    plural = kind in PLURAL_KINDS
    words = {"kind": kind, "are": "are" if plural else "is", "is_this": "are these" if plural else "is this",
             "Are_these": "Are these" if plural else "Is this"}
    return [t.format(**words) for t in TEMPLATES[qtype]]


def caption(attrs):
    """'a white striped shirt' (no pattern word for solid): the caption a product's attributes give."""
    pattern = attrs.get("pattern")
    pattern = "" if not pattern or pattern == "solid" else pattern + " "
    colour = attrs.get("colour")
    return f"a {colour + ' ' if colour else ''}{pattern}{attrs['category']}"


def assign_splits(product_ids, seed, val_fraction, test_fraction):
    """product id -> split: a seeded shuffle of the sorted ids, test first, then val, then train."""
    ids = sorted(set(product_ids))
    random.Random(seed).shuffle(ids)
    n_test = int(round(len(ids) * test_fraction))
    n_val = int(round(len(ids) * val_fraction))
    return {pid: ("test" if i < n_test else "val" if i < n_test + n_val else "train") for i, pid in enumerate(ids)}


def _hash_split(pid, seed, val_fraction, test_fraction):
    """The split of a curated product that is not in the catalog: stable per id and seed."""
    x = int(hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if x < test_fraction else "val" if x < test_fraction + val_fraction else "train"


class Skips:
    """Counts bad rows by reason and prints one line for each."""

    def __init__(self, quiet=False):
        self.counts = {}
        self.quiet = quiet

    def __call__(self, where, reason, detail):
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if not self.quiet:
            print(f"skipped {where}: {reason}: {detail}", flush=True)


def _read_jsonl(path, skips):
    """Yields (line number, dict) for each readable line; bad lines are counted and skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
            except ValueError as e:
                skips(f"{path.name}:{n}", "unreadable line", str(e).splitlines()[0][:80])
                continue
            yield n, row


def _image_ok(path):
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.verify()
        return True
    except Exception:  # Pillow raises many types for a bad file; all mean "unusable image"
        return False


def _image_uri(product):
    image = product.get("image")
    if isinstance(image, dict):
        return image.get("uri")
    return image if isinstance(image, str) else None


def build(catalog_dir, out, seed=0, val_fraction=0.1, test_fraction=0.1, curated=(), only_split=None,
          max_products=None, quiet=False):
    """Builds a dataset directory from a catalog (and curated files); returns dataset.json's dict."""
    catalog_dir, out = Path(catalog_dir), Path(out)
    products_file = catalog_dir / "products.jsonl"
    if not products_file.is_file():
        raise ExportError(f"{catalog_dir}: no products.jsonl (expected a catalog directory)")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ExportError(f"--val-fraction {val_fraction} and --test-fraction {test_fraction}: each must be in "
                          f"[0, 1) and their sum below 1")
    if only_split is not None and only_split not in SPLITS:
        raise ExportError(f"--only-split {only_split}: expected one of {', '.join(SPLITS)}")
    try:
        (out / "images").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror or e}") from None
    skips = Skips(quiet)

    products = []
    for n, p in _read_jsonl(products_file, skips):
        where = f"products.jsonl:{n}"
        pid, attrs, uri = p.get("productId"), p.get("attributes"), _image_uri(p)
        if not isinstance(pid, str) or not pid or not isinstance(attrs, dict) or "category" not in attrs:
            skips(where, "missing field", "productId, attributes and attributes.category are required")
            continue
        if not uri or not (catalog_dir / uri).is_file() or not _image_ok(catalog_dir / uri):
            skips(where, "missing image", f"{pid}: {uri}")
            continue
        products.append((pid, attrs, uri, p))
    splits = assign_splits([p[0] for p in products], seed, val_fraction, test_fraction)
    if only_split:
        products = [p for p in products if splits[p[0]] == only_split]
    if max_products is not None:
        products = sorted(products, key=lambda p: p[0])[:max_products]

    rows, kept_products = [], []
    vocab = {t: set() for t in TYPES}
    for i, (pid, attrs, uri, product) in enumerate(products):
        split = splits[pid]
        image = f"images/{Path(uri).name}"
        shutil.copyfile(catalog_dir / uri, out / image)
        kind = attrs["category"]
        for name, value in attrs.items():
            qtype = ATTRIBUTE_TYPES.get(name)
            if qtype is None:
                skips(f"{pid}", "unknown attribute", f"{name}={value!r} (no questions for it)")
                continue
            for q in questions(qtype, kind):
                rows.append({"image": image, "productId": pid, "type": qtype, "question": q, "answer": str(value),
                             "split": split})
            vocab[qtype].add(str(value))
        cap = caption(attrs)
        rows.append({"image": image, "productId": pid, "type": "caption", "question": None, "answer": cap,
                     "split": split})
        vocab["caption"].add(cap)
        kept_products.append(dict(product, image=dict(product["image"], uri=image)
                                  if isinstance(product.get("image"), dict) else image))
        if not quiet and ((i + 1) % 1000 == 0 or i + 1 == len(products)):
            print(f"dataset: {i + 1}/{len(products)} products, {len(rows)} rows", flush=True)

    known = {p[0] for p in products}
    for path in map(Path, curated):
        if not path.is_file():
            raise ExportError(f"--curated {path}: no such file")
        n_before = len(rows)
        for n, row in _read_jsonl(path, skips):
            where = f"{path.name}:{n}"
            qtype, answer, question = row.get("type"), row.get("answer"), row.get("question")
            pid, image = row.get("productId"), row.get("image")
            if qtype not in TYPES:
                skips(where, "unknown attribute", f"type {qtype!r}, expected one of {', '.join(TYPES)}")
                continue
            if not isinstance(answer, str) or not answer.strip() or not isinstance(pid, str) or not pid:
                skips(where, "missing field", "productId and a non-empty answer are required")
                continue
            if (qtype == "caption") != (question is None) or (question is not None and not isinstance(question, str)):
                skips(where, "missing field", "question must be a string, or null for a caption")
                continue
            src = path.parent / image if isinstance(image, str) else None
            if src is None or not src.is_file() or not _image_ok(src):
                skips(where, "missing image", f"{image}")
                continue
            split = splits.get(pid) or _hash_split(pid, seed, val_fraction, test_fraction)
            if only_split and split != only_split:
                continue
            target = f"images/{Path(image).name}"
            if not (out / target).exists():
                shutil.copyfile(src, out / target)
            rows.append({"image": target, "productId": pid, "type": qtype, "question": question,
                         "answer": answer.strip(), "split": split, "source": path.name})
            vocab[qtype].add(answer.strip())
            known.add(pid)
        if not quiet:
            print(f"dataset: {len(rows) - n_before} curated rows from {path}", flush=True)

    with open(out / "qa.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    with open(out / "products.jsonl", "w", encoding="utf-8") as f:
        for p in kept_products:
            f.write(json.dumps(p) + "\n")
    counts = {s: {t: 0 for t in TYPES} for s in SPLITS}
    product_counts = {s: set() for s in SPLITS}
    for r in rows:
        counts[r["split"]][r["type"]] += 1
        product_counts[r["split"]].add(r["productId"])
    meta = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
        "catalog": str(catalog_dir),
        "curated": [str(p) for p in curated],
        "rows": len(rows),
        "products": {s: len(product_counts[s]) for s in SPLITS},
        "counts": counts,
        "vocabulary": {t: sorted(v) for t, v in vocab.items() if t != "caption"},
        "templates": TEMPLATES,
        "skipped": dict(sorted(skips.counts.items())),
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        skipped = sum(skips.counts.values())
        print(f"dataset: wrote {out}: {len(rows)} rows, products train/val/test "
              f"{meta['products']['train']}/{meta['products']['val']}/{meta['products']['test']}, "
              f"{skipped} skipped", flush=True)
    return meta


def load(data_dir, split=None):
    """Reads qa.jsonl rows (of one split, or all)."""
    data_dir = Path(data_dir)
    path = data_dir / "qa.jsonl"
    if not path.is_file():
        raise ExportError(f"{data_dir}: no qa.jsonl (expected a dataset directory written by `dataset`)")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if split is None or row["split"] == split:
                    rows.append(row)
    return rows
