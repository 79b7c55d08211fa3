"""Reading and checking a model bundle directory (docs/model-bundle.md): manifest and checksums."""

import hashlib
import json
from pathlib import Path

from shoplens_export import FORMAT_VERSION
from shoplens_export.errors import ExportError

REQUIRED_FILES = ("vision.onnx", "embed.onnx", "decoder.onnx", "tokenizer.json")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entries(bundle_dir, names):
    bundle_dir = Path(bundle_dir)
    return {n: {"sha256": sha256(bundle_dir / n), "bytes": (bundle_dir / n).stat().st_size} for n in sorted(names)}


def load_manifest(bundle_dir):
    """Returns the manifest after checking its format version and every file's size and sha256."""
    bundle_dir = Path(bundle_dir)
    path = bundle_dir / "manifest.json"
    if not path.is_file():
        raise ExportError(f"{path}: no manifest.json, not a model bundle")
    manifest = json.loads(path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"{path}: format_version {manifest.get('format_version')}, expected {FORMAT_VERSION}; "
                          "re-export the bundle with this shoplens-export (python -m shoplens_export export ...)")
    files = manifest.get("files", {})
    required = REQUIRED_FILES + (("encoder.onnx",) if manifest.get("architecture") == "blip2-t5" else ())
    for name in required:
        if name not in files:
            raise ExportError(f"{path}: files has no entry for {name}")
    for name, entry in files.items():
        f = bundle_dir / name
        if not f.is_file():
            raise ExportError(f"{f}: listed in manifest.json but missing")
        if f.stat().st_size != entry["bytes"]:
            raise ExportError(f"{f}: {f.stat().st_size} bytes, manifest says {entry['bytes']}")
        if sha256(f) != entry["sha256"]:
            raise ExportError(f"{f}: sha256 differs from manifest.json")
    return manifest
