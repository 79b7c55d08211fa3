"""BLIP-2 image-text retrieval (`Blip2ForImageTextRetrieval`, LAVIS `blip2` pretrain/coco) to a
ShopLens retrieval bundle: `vision.onnx`, `text.onnx`, `itm.onnx`, the Q-Former's BERT WordPiece
`tokenizer.json` and a manifest with `architecture: blip2-retrieval` (docs/model-bundle.md).

Also the tiny retrieval preset (random weights from a tiny config, nothing downloaded) and its
Java fixtures: the bundle plus Hugging Face's own image/text features, ITC similarities and ITM
probabilities (`reference.json`).
"""

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import shoplens_export
from shoplens_export import bundle, corpus, export
from shoplens_export import vision_tower as tower
from shoplens_export.errors import ExportError

ARCHITECTURE = "blip2-retrieval"
BUNDLE_NAME = "tiny-blip2-retrieval"
FILES = ("vision.onnx", "image_features.onnx", "text.onnx", "itm.onnx", "tokenizer.json")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# LAVIS's Blip2Qformer truncates text to 32 tokens ([CLS] and [SEP] included) for ITC and ITM.
DEFAULT_MAX_TEXT_LENGTH = 32
REFERENCE_FORMAT = 1

REFERENCE_IMAGES = ["photo.jpg", "alpha.png", "gray.png", "palette.png", "wide.png"]
REFERENCE_TEXTS = [
    "a red dress",
    "White sneakers",
    "a black leather jacket with a zip and two pockets",
    "Does this shirt come in other colours?",
    "",
]


@dataclass(frozen=True)
class RetrievalPreset:
    name: str
    image_size: int
    vision: dict
    qformer: dict
    num_query_tokens: int
    embed_dim: int  # image_text_hidden_size: the shared ITC space
    vocab_size: int
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    query_token_std: float = 1.0
    itm_head_std: float = 1.0


TINY = RetrievalPreset(
    name="tiny",
    image_size=30,  # the same preprocessing as the tiny generation preset, so the Java test images serve both
    vision=dict(patch_size=2, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                initializer_range=0.02),
    # Wider than Hugging Face's 0.02 so that different images and texts give clearly different features.
    qformer=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                 max_position_embeddings=64, initializer_range=0.2, cross_attention_frequency=1,
                 use_qformer_text_input=True),
    num_query_tokens=8,
    embed_dim=16,
    vocab_size=300,
    max_text_length=12,  # short, so that a reference text is truncated
)

PRESETS = {"tiny": TINY}
DEFAULT_SEED = 1234


def train_tokenizer(vocab_size, first_words=()):
    """An uncased BERT WordPiece tokenizer trained on the built-in corpus, laid out as BERT's
    ([PAD]=0 as the Q-Former's padding_idx, [CLS] text [SEP]). `first_words` (e.g. a catalog's
    vocabulary) are whole tokens before the corpus's words."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                            lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    # The vocabulary is built here rather than by tokenizers' WordPieceTrainer, whose tie-breaking
    # differs from run to run: the committed fixture must be reproducible byte for byte.
    # Specials, every character (alone and as a continuation), then whole words by frequency.
    counts = {}
    for line in corpus.lines():
        for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(line)):
            counts[word] = counts.get(word, 0) + 1
    chars = sorted({c for w in counts for c in w})
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    for word in first_words:
        word = normalizer.normalize_str(word)
        if word not in vocab and len(vocab) < vocab_size:
            vocab.append(word)
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= vocab_size:
            break
        if word not in vocab:
            vocab.append(word)
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]",
                                     max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece(prefix="##")
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return tok


def hf_tokenizer(tok, max_length):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                                   pad_token="[PAD]", mask_token="[MASK]", padding_side="right",
                                   model_max_length=max_length, clean_up_tokenization_spaces=False)


def build(preset, seed=DEFAULT_SEED):
    """Returns `(model, tokenizer, image_processor)`: a randomly initialised
    `Blip2ForImageTextRetrieval` in eval mode, fully determined by `preset` and `seed`."""
    from transformers import Blip2Config, Blip2ForImageTextRetrieval
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    tok = train_tokenizer(preset.vocab_size)
    config = Blip2Config(vision_config=dict(image_size=preset.image_size, **preset.vision),
                         qformer_config=dict(preset.qformer, vocab_size=tok.get_vocab_size(), pad_token_id=0),
                         num_query_tokens=preset.num_query_tokens, image_text_hidden_size=preset.embed_dim)
    torch.manual_seed(seed)
    model = Blip2ForImageTextRetrieval(config)
    with torch.no_grad():
        model.query_tokens.normal_(0.0, preset.query_token_std)
        # A wider ITM head than Hugging Face's init, so that match probabilities differ visibly
        # between pairs instead of all sitting near 0.5.
        torch.nn.init.normal_(model.itm_head.weight, 0.0, preset.itm_head_std)
    model.eval()
    image_processor = BlipImageProcessorPil(size={"height": preset.image_size, "width": preset.image_size})
    return model, hf_tokenizer(tok, preset.max_text_length), image_processor


def checkpoint(path_or_id, max_text_length=DEFAULT_MAX_TEXT_LENGTH):
    """Loads a `Blip2ForImageTextRetrieval` checkpoint (e.g. Salesforce/blip2-itm-vit-g); returns
    `(model, tokenizer, image_processor)`."""
    import transformers
    from transformers import AutoTokenizer, Blip2ForImageTextRetrieval
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    transformers.logging.set_verbosity_error()
    try:
        model, loading = Blip2ForImageTextRetrieval.from_pretrained(path_or_id, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise ExportError(f"{path_or_id}: cannot load a Blip2ForImageTextRetrieval checkpoint: "
                          f"{str(e).splitlines()[0]}") from None
    missing = [k for k in loading.get("missing_keys", []) if "position_ids" not in k]
    if missing or loading.get("mismatched_keys"):
        what = missing or loading.get("mismatched_keys")
        raise ExportError(f"{path_or_id}: not a retrieval checkpoint or inconsistent: {len(what)} weights missing "
                          f"or of the wrong shape, first {sorted(map(str, what))[0]}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path_or_id)
        image_processor = BlipImageProcessorPil.from_pretrained(path_or_id)
    except (OSError, ValueError) as e:
        raise ExportError(f"{path_or_id}: cannot load the tokenizer or image processor: "
                          f"{str(e).splitlines()[0]}") from None
    tokenizer.padding_side = "right"
    tokenizer.model_max_length = max_text_length
    model.eval()
    return model, tokenizer, image_processor


def _vision_tower_sha256(model):
    """The vision tower checksum (`vision_tower.sha256`), shared with generation bundles."""
    return tower.sha256(model)


def _vision_info(image_processor, image_size):
    from shoplens_export.sources import _RESAMPLE

    ip = image_processor
    size = ip.size if isinstance(ip.size, dict) else ip.size.__dict__
    if size.get("height") != image_size or size.get("width") != image_size:
        raise ExportError(f"image processor resizes to {size} but the vision tower expects {image_size}x{image_size}")
    return {
        "image_size": image_size, "resample": _RESAMPLE.get(int(ip.resample), str(ip.resample)),
        "do_resize": bool(ip.do_resize), "do_rescale": bool(ip.do_rescale),
        "rescale_factor": float(ip.rescale_factor), "do_normalize": bool(ip.do_normalize),
        "image_mean": [float(x) for x in ip.image_mean], "image_std": [float(x) for x in ip.image_std],
        "do_convert_rgb": bool(ip.do_convert_rgb),
    }


def export_retrieval(model, tokenizer, image_processor, out, model_id, name, preset=None, seed=None,
                     external_data=False, vision_from=None):
    """Writes vision.onnx, image_features.onnx, text.onnx, itm.onnx, tokenizer.json and manifest.json
    into `out` (float32 only: the Java engine runs float32). `vision_from` only names, in the
    manifest, the generation model whose tower was copied into `model` (`copy_vision_from`)."""
    out = export.check_output_dir(out)
    if model.config.image_token_index is not None:
        raise ExportError("checkpoint sets image_token_index: expected plain Q-Former text input for retrieval")
    from shoplens_export import retrieval_graphs as g

    model = copy.deepcopy(model).float().eval()
    qcfg = model.config.qformer_config
    image_size = model.config.vision_config.image_size
    backend = tokenizer.backend_tokenizer
    probe = "White sneakers, size 42?"
    if backend.encode(probe).ids != tokenizer(probe)["input_ids"]:
        raise ExportError("tokenizer.json does not reproduce the Hugging Face tokenizer: cannot export")
    if len(tokenizer) > qcfg.vocab_size:
        raise ExportError(f"tokenizer has {len(tokenizer)} tokens but the Q-Former only {qcfg.vocab_size} rows")
    max_len = min(int(tokenizer.model_max_length), qcfg.max_position_embeddings)

    files = []
    pixel_values = torch.zeros(2, 3, image_size, image_size)
    files += export._export_graph(g.RetrievalVisionGraph(model), (pixel_values,), out / "vision.onnx",
                                  ["pixel_values"], ["image_embeds", "image_features"],
                                  {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"},
                                   "image_features": {0: "batch"}}, external_data)
    ids, mask = torch.ones(2, 5, dtype=torch.long), torch.ones(2, 5, dtype=torch.long)
    text_axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    files += export._export_graph(g.RetrievalTextGraph(model), (ids, mask), out / "text.onnx",
                                  ["input_ids", "attention_mask"], ["text_features"],
                                  dict(text_axes, text_features={0: "batch"}), external_data)
    with torch.no_grad():
        image_embeds = model.vision_model(pixel_values).last_hidden_state
    files += export._export_graph(g.RetrievalItmGraph(model), (image_embeds, ids, mask), out / "itm.onnx",
                                  ["image_embeds", "input_ids", "attention_mask"], ["itm_logits"],
                                  dict(text_axes, image_embeds={0: "batch"}, itm_logits={0: "batch"}),
                                  external_data)
    # The tower's output in, the normalised query features out: given a generation vision pass's
    # image_embeds (same tower checksum), an image needs no retrieval tower pass.
    files += export._export_graph(g.RetrievalImageFeaturesGraph(model), (image_embeds,), out / "image_features.onnx",
                                  [tower.OUTPUT], ["image_features"],
                                  {tower.OUTPUT: {0: "batch"}, "image_features": {0: "batch"}}, external_data)
    (out / "tokenizer.json").write_text(backend.to_str(), encoding="utf-8")
    files.append("tokenizer.json")
    entries = bundle.file_entries(out, files)
    weights_hash = hashlib.sha256("".join(entries[n]["sha256"] for n in sorted(entries)).encode()).hexdigest()[:8]
    manifest = {
        "format_version": shoplens_export.FORMAT_VERSION,
        "model_id": model_id,
        "model_version": f"{name}-{weights_hash}",
        "architecture": ARCHITECTURE,
        "dtype": "float32",
        "num_query_tokens": model.config.num_query_tokens,
        "vision": _vision_info(image_processor, image_size),
        "vision_tower": dict(tower.describe(model, "float32"), **({"copied_from": vision_from} if vision_from else {})),
        "retrieval": {
            "embed_dim": model.config.image_text_hidden_size,
            "vision_hidden_size": model.config.vision_config.hidden_size,
            "num_patches": (image_size // model.config.vision_config.patch_size) ** 2 + 1,
            "max_text_length": max_len,
            "vocab_size": qcfg.vocab_size,
            "cls_token_id": tokenizer.cls_token_id,
            "sep_token_id": tokenizer.sep_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "itm_match_index": 1,
            "vision_tower_sha256": _vision_tower_sha256(model),
        },
        "files": entries,
        "exporter": {
            "name": "shoplens-export", "version": shoplens_export.__version__,
            "transformers": export._version("transformers"), "torch": torch.__version__.split("+")[0],
            "onnx_opset": shoplens_export.ONNX_OPSET, "seed": seed, "preset": preset,
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for stale in ("vision.onnx.data", "image_features.onnx.data", "text.onnx.data", "itm.onnx.data"):
        if stale not in files and (out / stale).exists():
            (out / stale).unlink()
    return manifest


def export_preset(name, out, seed=DEFAULT_SEED, external_data=False, vision_from=None):
    if name not in PRESETS:
        raise ExportError(f"unknown retrieval preset {name!r}: expected one of {sorted(PRESETS)}")
    model, tokenizer, ip = build(PRESETS[name], seed)
    if vision_from:
        copy_vision_from(model, ip, vision_from)
    return export_retrieval(model, tokenizer, ip, out, model_id=f"shoplens/{name}-blip2-retrieval",
                            name=f"{name}-blip2-retrieval-s{seed}", preset=name, seed=seed,
                            external_data=external_data, vision_from=vision_from)


def export_checkpoint(path_or_id, out, external_data=False, vision_from=None, model_id=None):
    model, tokenizer, ip = checkpoint(path_or_id)
    if vision_from:
        copy_vision_from(model, ip, vision_from)
    model_id = model_id or str(path_or_id)
    return export_retrieval(model, tokenizer, ip, out, model_id=model_id,
                            name=Path(model_id.rstrip("/")).name, external_data=external_data,
                            vision_from=vision_from)


def generation_source(vision_from, seed=None):
    """The generation model named by `--vision-from`: a generation preset (tiny, bench, fashion,
    tiny-t5; built with `seed`, by default the one `export --preset NAME` uses) or a BLIP-2
    generation checkpoint. Returns `(model, info)`."""
    from shoplens_export import presets, sources

    seed = presets.DEFAULT_SEED if seed is None else seed
    if vision_from == "tiny-t5":
        from shoplens_export import presets_t5

        model, _, _, info = presets_t5.source(seed)
    elif vision_from in presets.PRESETS:
        model, _, _, info = presets.source(presets.get(vision_from), seed)
    else:
        model, _, _, info = sources.checkpoint(vision_from)
    return model, info


def copy_vision_from(model, image_processor, vision_from, seed=None):
    """Replaces `model`'s vision tower by the generation model's (`generation_source`), so that the
    two bundles share one tower pass per image. Refuses a generation model that preprocesses images
    differently: the same weights on other pixels would give other image_embeds."""
    source, info = generation_source(vision_from, seed)
    size = source.config.vision_config.image_size
    mine = _vision_info(image_processor, model.config.vision_config.image_size)
    theirs = dict(info["vision"], image_size=size)
    differ = sorted(k for k in mine if k in theirs and mine[k] != theirs[k])
    if differ:
        raise ExportError(f"--vision-from {vision_from}: it preprocesses images differently ("
                          + ", ".join(f"{k} {theirs[k]} there, {mine[k]} here" for k in differ) + ")")
    tower.copy_into(model, source)


def _round(values, digits=8):
    return [float(f"{v:.{digits}g}") for v in values]


def hf_reference(model, tokenizer, image_processor, image_dir):
    """Hugging Face's own outputs for every reference image and text (and every pair's ITM)."""
    from PIL import Image

    pil = [Image.open(Path(image_dir) / n) for n in REFERENCE_IMAGES]
    pixel_values = image_processor(pil, return_tensors="pt")["pixel_values"]
    enc = tokenizer(REFERENCE_TEXTS, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        itc = model(pixel_values=pixel_values, input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                    use_image_text_matching_head=False)
        ni, nt = len(REFERENCE_IMAGES), len(REFERENCE_TEXTS)
        pair_pixels = pixel_values.repeat_interleave(nt, dim=0)
        itm = model(pixel_values=pair_pixels, input_ids=enc["input_ids"].repeat(ni, 1),
                    attention_mask=enc["attention_mask"].repeat(ni, 1), use_image_text_matching_head=True)
    itm_logits = itm.logits_per_image.reshape(ni, nt, 2)
    itm_prob = torch.softmax(itm_logits, dim=-1)[..., 1]
    texts = []
    for i, t in enumerate(REFERENCE_TEXTS):
        n = int(enc["attention_mask"][i].sum())
        texts.append({"text": t, "input_ids": enc["input_ids"][i, :n].tolist(),
                      "text_features": _round(itc.text_embeds[i].tolist())})
    return {
        "images": [{"name": n, "image_features_shape": list(itc.image_embeds[i].shape),
                    "image_features": _round(itc.image_embeds[i].flatten().tolist())}
                   for i, n in enumerate(REFERENCE_IMAGES)],
        "texts": texts,
        "itc_similarity": [_round(row) for row in itc.logits_per_image.tolist()],
        "itm_logits": [[_round(p) for p in row] for row in itm_logits.tolist()],
        "itm_probability": [_round(row) for row in itm_prob.tolist()],
    }


def generate_fixtures(resources_dir, seed=DEFAULT_SEED):
    """Writes models/tiny-blip2-retrieval/ (bundle + reference.json) under the Java test resources,
    using the committed test images in images/."""
    import transformers

    transformers.logging.set_verbosity_error()
    resources_dir = Path(resources_dir)
    image_dir = resources_dir / "images"
    if not all((image_dir / n).is_file() for n in REFERENCE_IMAGES):
        raise ExportError(f"{image_dir}: expected the test images {REFERENCE_IMAGES} (run `fixtures` first)")
    out = resources_dir / "models" / BUNDLE_NAME
    # The tiny retrieval and generation presets build their vision towers first from the same seed
    # and config, so this bundle's tower is tiny-blip2-opt's (equal vision_tower.sha256): the pair on
    # which the Java engine shares one tower pass per image. Checked here, as tests rely on it.
    model, tokenizer, ip = build(TINY, seed)
    generation, _ = generation_source("tiny", seed)
    if tower.sha256(model) != tower.sha256(generation):
        raise AssertionError("the tiny retrieval preset no longer has the tiny generation preset's vision tower")
    return _fixture(model, tokenizer, ip, out, image_dir, "shoplens/tiny-blip2-retrieval",
                    f"tiny-blip2-retrieval-s{seed}", seed)


def _fixture(model, tokenizer, ip, out, image_dir, model_id, name, seed, vision_from=None):
    manifest = export_retrieval(model, tokenizer, ip, out, model_id=model_id, name=name, preset="tiny", seed=seed,
                                vision_from=vision_from)
    reference = {"format_version": REFERENCE_FORMAT, "model_version": manifest["model_version"],
                 "generated_by": {"transformers": manifest["exporter"]["transformers"],
                                  "torch": manifest["exporter"]["torch"], "exporter": shoplens_export.__version__},
                 **hf_reference(model, tokenizer, ip, image_dir)}
    (out / "reference.json").write_text(json.dumps(reference, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return reference


def ort_outputs(bundle_dir, pixel_values, input_ids, attention_mask):
    """Runs the three graphs on Python ONNX Runtime (parity tests): image features, text features,
    ITC similarities [images, texts] and ITM logits for every (image, text) pair."""
    import onnxruntime as ort

    d = Path(bundle_dir)
    vision = ort.InferenceSession(str(d / "vision.onnx"), providers=["CPUExecutionProvider"])
    text = ort.InferenceSession(str(d / "text.onnx"), providers=["CPUExecutionProvider"])
    itm = ort.InferenceSession(str(d / "itm.onnx"), providers=["CPUExecutionProvider"])
    image_embeds, image_features = vision.run(None, {"pixel_values": pixel_values})
    (text_features,) = text.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
    itc = np.einsum("iqd,td->itq", image_features, text_features).max(axis=-1)
    ni, nt = image_embeds.shape[0], input_ids.shape[0]
    (logits,) = itm.run(None, {"image_embeds": np.repeat(image_embeds, nt, axis=0),
                               "input_ids": np.tile(input_ids, (ni, 1)),
                               "attention_mask": np.tile(attention_mask, (ni, 1))})
    return image_features, text_features, itc, logits.reshape(ni, nt, 2)


def main(args):
    """`export --retrieval --preset tiny|--checkpoint X [--vision-from GENERATION] --out DIR`, from cli.py."""
    if args.dtype != "float32":
        raise ExportError("retrieval bundles are float32 only (the Java engine runs float32)")
    vision_from = getattr(args, "vision_from", None)
    if args.preset:
        seed = DEFAULT_SEED if args.seed is None else args.seed
        manifest = export_preset(args.preset, args.out, seed, external_data=args.external_data,
                                 vision_from=vision_from)
    else:
        if args.seed is not None:
            raise ExportError("--seed only applies to --preset (a checkpoint has its own weights)")
        manifest = export_checkpoint(args.checkpoint, args.out, external_data=args.external_data,
                                     vision_from=vision_from, model_id=getattr(args, "model_id", None))
    print(f"wrote {args.out}: {manifest['model_version']} ({manifest['architecture']}, "
          f"{sum(f['bytes'] for f in manifest['files'].values())} bytes)")
    return 0
