"""The frozen vision tower as both kinds of bundle describe it (docs/model-bundle.md, "One vision
tower for generation and retrieval").

BLIP-2's generation models (blip2-opt-*, blip2-flan-t5-*) and its retrieval models (blip2-itm-vit-g)
all start from the same frozen EVA ViT-g. A generation bundle and a retrieval bundle whose towers
have the same checksum here can share one tower pass per image. The checksum is this one function
for both kinds, so that the values are comparable: it depends on the tower's parameter names and
float32 values alone, not on the model class around the tower or the dtype the bundle is exported in.
"""

import hashlib

import torch

from shoplens_export.errors import ExportError

# The vision graph output that carries the tower's last hidden state, [B, P, Hv], in both kinds.
OUTPUT = "image_embeds"


def sha256(model):
    """Hex sha256 of `model.vision_model`'s weights (names sorted, values as float32 bytes)."""
    h = hashlib.sha256()
    for name, t in sorted(model.vision_model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to(torch.float32).cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def describe(model, precision):
    """The manifest's `vision_tower` object: checksum, the output that exposes the tower, its shape
    (what the Java engine computes the per-image cost from) and the precision the exported graph
    computes it in ("float32", "float16" or "int8-dynamic": only equal precisions share)."""
    cfg = model.config.vision_config
    return {
        "sha256": sha256(model),
        "output": OUTPUT,
        "precision": precision,
        "image_size": cfg.image_size,
        "patch_size": cfg.patch_size,
        "num_patches": (cfg.image_size // cfg.patch_size) ** 2 + 1,  # patches and the class embedding
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_layers": cfg.num_hidden_layers,
    }


def copy_into(target, source):
    """Copies `source.vision_model`'s weights into `target.vision_model` (in place), refusing towers
    of another shape: a retrieval model that is to share its tower with a generation model."""
    src, dst = source.vision_model.state_dict(), target.vision_model.state_dict()
    if src.keys() != dst.keys():
        missing = sorted(set(dst) ^ set(src))
        raise ExportError(f"--vision-from: the vision towers differ in their weights, first {missing[0]}")
    for name, t in dst.items():
        if t.shape != src[name].shape:
            raise ExportError(f"--vision-from: vision tower weight {name} is {tuple(src[name].shape)} in the source, "
                              f"{tuple(t.shape)} in the retrieval model")
    with torch.no_grad():
        for name, t in dst.items():
            t.copy_(src[name].to(t.dtype))
    if sha256(target) != sha256(source):
        raise AssertionError("vision tower copy: checksums differ after copying")
