"""Deterministic test images, drawn with Pillow: one per decoding/conversion path the Java side
must handle (JPEG, PNG with alpha, grayscale, palette, non-square, tiny)."""

from PIL import Image, ImageDraw


def _scene(width, height):
    """A beige background with a red 'dress', a blue 'bag' and a diagonal gradient band."""
    img = Image.new("RGB", (width, height), (230, 220, 200))
    px = img.load()
    for y in range(height):
        for x in range(width):
            if abs(x - y) < max(2, width // 10):
                px[x, y] = ((x * 255) // max(1, width - 1), 120, (y * 255) // max(1, height - 1))
    d = ImageDraw.Draw(img)
    d.polygon([(width * 0.3, height * 0.15), (width * 0.45, height * 0.15), (width * 0.55, height * 0.9),
               (width * 0.2, height * 0.9)], fill=(200, 20, 40))
    d.rectangle([width * 0.65, height * 0.5, width * 0.9, height * 0.8], fill=(30, 60, 180))
    return img


def write_all(directory):
    """Writes the test images into `directory`; returns {file name: description}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}

    # 4:4:4 chroma so that JPEG decoders (libjpeg in Pillow, ImageIO in Java) agree within a level or two.
    _scene(64, 48).save(directory / "photo.jpg", quality=95, subsampling=0, optimize=False)
    out["photo.jpg"] = "JPEG, RGB 64x48, 4:4:4"

    rgba = _scene(40, 40).convert("RGBA")
    px = rgba.load()
    for y in range(40):
        for x in range(40):
            r, g, b, _ = px[x, y]
            # Transparent and half-transparent areas keep distinctive colours underneath, so a reader
            # that composites onto white (instead of dropping alpha, as Pillow's convert("RGB") does) differs.
            alpha = 0 if x < 10 else (128 if x < 20 else 255)
            px[x, y] = (r, (g + 90) % 256, b, alpha)
    rgba.save(directory / "alpha.png")
    out["alpha.png"] = "PNG, RGBA 40x40 with transparent and half-transparent columns"

    _scene(36, 36).convert("L").save(directory / "gray.png")
    out["gray.png"] = "PNG, grayscale (L) 36x36"

    _scene(32, 24).quantize(colors=8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        directory / "palette.png")
    out["palette.png"] = "PNG, palette (P, 8 colours) 32x24"

    _scene(96, 24).save(directory / "wide.png")
    out["wide.png"] = "PNG, RGB 96x24 (non-square, 4:1)"

    _scene(5, 3).save(directory / "tiny.png")
    out["tiny.png"] = "PNG, RGB 5x3 (upscaled)"
    return out
