"""A deterministic synthetic fashion catalog: product photos drawn with Pillow, and their attributes.

`python -m shoplens_export catalog --out DIR --products N --seed S` writes

    DIR/images/<productId>.png   one product photo each
    DIR/products.jsonl           one Product per line (the fields of schemas/.../Product.avsc)
    DIR/catalog.json             seed, counts and the vocabulary of every attribute

Everything follows from the seed (a `random.Random`, no global state), so the same seed gives the
same bytes. Each kind has a recognisable silhouette; colour and pattern are drawn on it, and the
photo varies in position, scale, rotation, background and lighting. Material, style and the
outdoor rule follow from the kind, as they would in a real catalog's taxonomy.
"""

import hashlib
import json
import math
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from shoplens_export.errors import ExportError

# kind -> (catalog category path, material, style, footwear)
KINDS = {
    "shirt": ("tops/shirts", "cotton", "formal", False),
    "t-shirt": ("tops/t-shirts", "cotton", "casual", False),
    "dress": ("dresses", "silk", "formal", False),
    "trousers": ("bottoms/trousers", "denim", "casual", False),
    "skirt": ("bottoms/skirts", "linen", "casual", False),
    "sneakers": ("footwear/sneakers", "canvas", "sporty", True),
    "boots": ("footwear/boots", "leather", "casual", True),
    "heels": ("footwear/heels", "suede", "formal", True),
    "handbag": ("bags/handbags", "leather", "formal", False),
    "hat": ("accessories/hats", "wool", "casual", False),
}
# The category rule: footwear "suitable for outdoor activities".
OUTDOOR = {"sneakers": "yes", "boots": "yes", "heels": "no"}

COLOURS = {
    "white": (245, 245, 242),
    "black": (22, 22, 24),
    "red": (205, 30, 35),
    "blue": (35, 75, 200),
    "green": (35, 145, 60),
    "yellow": (245, 210, 30),
    "pink": (245, 140, 185),
    "grey": (128, 128, 132),
    "brown": (115, 70, 35),
    "orange": (245, 130, 20),
    "purple": (120, 45, 160),
}
PATTERNS = ("solid", "striped", "dotted", "checked")
ATTRIBUTES = ("category", "colour", "pattern", "material", "style", "outdoor")

# Light and dark neutral backgrounds; a garment never sits on a background close to its colour.
BACKGROUNDS = [(232, 228, 220), (210, 214, 220), (190, 200, 190), (225, 210, 200), (60, 64, 72), (85, 80, 75),
               (170, 170, 175), (200, 190, 215)]


def _silhouette(kind):
    """Polygons (lists of (x, y) in a unit box, y down) whose union is the kind's silhouette,
    plus detail lines drawn in the outline colour."""
    if kind == "shirt":
        body = [(0.30, 0.10), (0.42, 0.06), (0.50, 0.14), (0.58, 0.06), (0.70, 0.10), (0.97, 0.62), (0.86, 0.68),
                (0.70, 0.36), (0.70, 0.95), (0.30, 0.95), (0.30, 0.36), (0.14, 0.68), (0.03, 0.62)]
        return [body], [[(0.50, 0.14), (0.50, 0.95)], [(0.42, 0.06), (0.46, 0.20), (0.50, 0.14)],
                        [(0.58, 0.06), (0.54, 0.20), (0.50, 0.14)]]
    if kind == "t-shirt":
        body = [(0.28, 0.12), (0.40, 0.08), (0.50, 0.14), (0.60, 0.08), (0.72, 0.12), (0.95, 0.32), (0.84, 0.45),
                (0.74, 0.38), (0.74, 0.92), (0.26, 0.92), (0.26, 0.38), (0.16, 0.45), (0.05, 0.32)]
        return [body], []
    if kind == "dress":
        body = [(0.38, 0.05), (0.44, 0.05), (0.46, 0.22), (0.54, 0.22), (0.56, 0.05), (0.62, 0.05), (0.64, 0.30),
                (0.60, 0.42), (0.88, 0.96), (0.12, 0.96), (0.40, 0.42), (0.36, 0.30)]
        return [body], [[(0.40, 0.42), (0.60, 0.42)]]
    if kind == "trousers":
        body = [(0.28, 0.04), (0.72, 0.04), (0.80, 0.97), (0.58, 0.97), (0.50, 0.30), (0.42, 0.97), (0.20, 0.97)]
        return [body], [[(0.28, 0.11), (0.72, 0.11)]]
    if kind == "skirt":
        body = [(0.32, 0.22), (0.68, 0.22), (0.90, 0.80), (0.10, 0.80)]
        return [body], [[(0.32, 0.29), (0.68, 0.29)]]
    if kind == "sneakers":
        upper = [(0.06, 0.52), (0.10, 0.38), (0.30, 0.36), (0.52, 0.20), (0.64, 0.20), (0.70, 0.36), (0.94, 0.50),
                 (0.96, 0.66), (0.06, 0.66)]
        return [upper], [[(0.04, 0.68), (0.97, 0.68)], [(0.40, 0.36), (0.56, 0.26)], [(0.44, 0.42), (0.60, 0.32)]]
    if kind == "boots":
        body = [(0.28, 0.04), (0.58, 0.04), (0.60, 0.58), (0.90, 0.70), (0.92, 0.88), (0.26, 0.88)]
        return [body], [[(0.24, 0.90), (0.93, 0.90)], [(0.30, 0.14), (0.58, 0.14)]]
    if kind == "heels":
        body = [(0.10, 0.40), (0.24, 0.36), (0.38, 0.56), (0.90, 0.78), (0.92, 0.86), (0.40, 0.84), (0.24, 0.56),
                (0.20, 0.90), (0.14, 0.90), (0.12, 0.56)]
        return [body], []
    if kind == "handbag":
        body = [(0.14, 0.40), (0.86, 0.40), (0.92, 0.92), (0.08, 0.92)]
        return [body], [[(0.30, 0.40), (0.32, 0.16), (0.50, 0.08), (0.68, 0.16), (0.70, 0.40)],
                        [(0.14, 0.52), (0.86, 0.52)]]
    if kind == "hat":
        crown = [(0.28, 0.62), (0.32, 0.26), (0.50, 0.18), (0.68, 0.26), (0.72, 0.62)]
        brim = [(0.50 + 0.48 * math.cos(i * math.pi / 12), 0.66 + 0.09 * math.sin(i * math.pi / 12))
                for i in range(24)]
        return [crown, brim], [[(0.30, 0.54), (0.70, 0.54)]]
    raise ValueError(kind)


def _shade(rgb, factor):
    return tuple(max(0, min(255, int(round(c * factor)))) for c in rgb)


def _pattern_colour(rgb):
    """A second colour for stripes, dots and checks: a shade of the garment colour, so that the
    colour question keeps one answer (dark colours get a lighter shade, light ones a darker)."""
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    if lum < 60:
        return (150, 150, 155)  # black: mid grey lines read as "black with a pattern"
    if lum > 225:
        return (70, 70, 80)  # white: dark lines
    return _shade(rgb, 0.45) if lum > 110 else tuple(min(255, int(c + (255 - c) * 0.55)) for c in rgb)


def _texture(size, rgb, pattern, rnd):
    """A size x size texture of the garment: base colour plus the pattern in a shade of it."""
    tex = Image.new("RGB", (size, size), rgb)
    if pattern == "solid":
        return tex
    d = ImageDraw.Draw(tex)
    second = _pattern_colour(rgb)
    period = max(5, int(size * rnd.uniform(0.09, 0.13)))
    if pattern == "striped":
        width = max(2, period // 2)
        vertical = rnd.random() < 0.5
        for p in range(-period, size + period, period):
            if vertical:
                d.rectangle([p, 0, p + width - 1, size], fill=second)
            else:
                d.rectangle([0, p, size, p + width - 1], fill=second)
    elif pattern == "dotted":
        r = max(1.5, period * 0.28)
        for y in range(0, size + period, period):
            shift = period // 2 if (y // period) % 2 else 0
            for x in range(-period, size + period, period):
                cx, cy = x + shift, y
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=second)
    elif pattern == "checked":
        width = max(2, period // 3)
        for p in range(0, size + period, period):
            d.rectangle([p, 0, p + width - 1, size], fill=second)
            d.rectangle([0, p, size, p + width - 1], fill=second)
    return tex


def _background(size, rgb, rnd):
    """Pick a background that contrasts with the garment colour and draw it with a soft gradient."""
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    choices = [b for b in BACKGROUNDS if abs((0.299 * b[0] + 0.587 * b[1] + 0.114 * b[2]) - lum) > 45
               and sum(abs(a - c) for a, c in zip(b, rgb)) > 120]
    base = rnd.choice(choices or BACKGROUNDS)
    top = _shade(base, rnd.uniform(0.94, 1.06))
    bottom = _shade(base, rnd.uniform(0.90, 1.02))
    bg = Image.new("RGB", (size, size))
    d = ImageDraw.Draw(bg)
    for y in range(size):
        t = y / max(1, size - 1)
        d.line([(0, y), (size, y)], fill=tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    return bg


def render(kind, colour, pattern, size, rnd):
    """Draws one product photo (RGB, size x size)."""
    rgb = COLOURS[colour]
    polys, lines = _silhouette(kind)
    scale = size * rnd.uniform(0.62, 0.86)
    angle = math.radians(rnd.uniform(-14, 14))
    cx = size / 2 + rnd.uniform(-0.09, 0.09) * size
    cy = size / 2 + rnd.uniform(-0.09, 0.09) * size
    ca, sa = math.cos(angle), math.sin(angle)

    def tr(pt):
        x, y = (pt[0] - 0.5) * scale, (pt[1] - 0.5) * scale
        return (cx + x * ca - y * sa, cy + x * sa + y * ca)

    mask = Image.new("L", (size, size), 0)
    md = ImageDraw.Draw(mask)
    for poly in polys:
        md.polygon([tr(p) for p in poly], fill=255)
    img = _background(size, rgb, rnd)
    # A soft drop shadow separates the product from the background, as on studio photos.
    shadow = mask.filter(ImageFilter.GaussianBlur(max(1, size / 40)))
    off = max(1, size // 40)
    shadow = ImageChops.offset(shadow, off, off).point(lambda v: int(v * 0.45))
    img = Image.composite(Image.new("RGB", (size, size), (0, 0, 0)), img, shadow)
    tex = _texture(size, rgb, pattern, rnd)
    # Rotate the texture with the garment so that stripes follow it.
    tex = tex.rotate(-math.degrees(angle), resample=Image.Resampling.NEAREST, expand=False, fillcolor=rgb)
    img.paste(tex, (0, 0), mask)
    d = ImageDraw.Draw(img)
    outline = _shade(rgb, 0.6) if sum(rgb) > 150 else (95, 95, 100)
    width = max(1, size // 48)
    for poly in polys:
        pts = [tr(p) for p in poly]
        d.line(pts + [pts[0]], fill=outline, width=width)
    for line in lines:
        d.line([tr(p) for p in line], fill=outline, width=width)
    # Lighting: overall brightness and a left-to-right falloff.
    gain = rnd.uniform(0.88, 1.08)
    slope = rnd.uniform(-0.08, 0.08)
    light = Image.linear_gradient("L").rotate(90).resize((size, size))
    lo, hi = gain * (1 - slope), gain * (1 + slope)
    light = light.point(lambda v: int(max(0, min(255, 200 * (lo + (hi - lo) * v / 255)))))
    img = ImageChops.multiply(img, Image.merge("RGB", [light] * 3)).point(lambda v: min(255, int(v * 255 / 200)))
    return img


def vocabulary():
    return {
        "category": list(KINDS),
        "colour": list(COLOURS),
        "pattern": list(PATTERNS),
        "material": sorted({v[1] for v in KINDS.values()}),
        "style": sorted({v[2] for v in KINDS.values()}),
        "outdoor": ["no", "yes"],
    }


def product_id(i):
    return f"p{i:05d}"


def generate(out, products, seed, image_size=96, progress=True):
    """Writes the catalog into `out`; returns the catalog.json dict."""
    if products < 1:
        raise ExportError(f"--products must be at least 1, got {products}")
    if image_size < 32:
        raise ExportError(f"--image-size must be at least 32 px, got {image_size}")
    out = Path(out)
    try:
        (out / "images").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror or e}") from None
    rnd = random.Random(seed)
    kinds, colours = list(KINDS), list(COLOURS)
    counts = {a: {} for a in ("category", "colour", "pattern")}
    rows = []
    for i in range(products):
        # Balanced over kind x colour x pattern, shuffled per block so every value is frequent.
        kind = kinds[i % len(kinds)]
        colour = rnd.choice(colours)
        pattern = rnd.choice(PATTERNS)
        path, material, style, footwear = KINDS[kind]
        attrs = {"category": kind, "colour": colour, "pattern": pattern, "material": material, "style": style}
        if footwear:
            attrs["outdoor"] = OUTDOOR[kind]
        pid = product_id(i + 1)
        img = render(kind, colour, pattern, image_size, rnd)
        rel = f"images/{pid}.png"
        img.save(out / rel, optimize=False, compress_level=6)
        data = (out / rel).read_bytes()
        for a in counts:
            counts[a][attrs[a]] = counts[a].get(attrs[a], 0) + 1
        stock = rnd.randint(0, 40)
        pattern_word = "" if pattern == "solid" else pattern + " "
        rows.append({
            "productId": pid,
            "title": f"{colour.capitalize()} {pattern_word}{kind}",
            "category": path,
            "attributes": attrs,
            "image": {"uri": rel, "sha256": hashlib.sha256(data).hexdigest(), "contentType": "image/png",
                      "sizeBytes": len(data)},
            "stockQuantity": stock,
            "inStock": stock > 0,
            "updatedAt": None,
        })
        if progress and ((i + 1) % 500 == 0 or i + 1 == products):
            print(f"catalog: {i + 1}/{products} products", flush=True)
    with open(out / "products.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=False) + "\n")
    meta = {
        "format_version": 1,
        "generator": "shoplens_export.catalog",
        "seed": seed,
        "image_size": image_size,
        "products": products,
        "counts": {a: dict(sorted(c.items())) for a, c in counts.items()},
        "vocabulary": vocabulary(),
        "rules": {"outdoor": {"applies_to": sorted(OUTDOOR), "question": "suitable for outdoor activities",
                              "values": OUTDOOR}},
        "derived": {k: {"material": v[1], "style": v[2], "category_path": v[0]} for k, v in KINDS.items()},
    }
    (out / "catalog.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
