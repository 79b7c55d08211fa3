"""Exports a Hugging Face BLIP-2 with a T5 / Flan-T5 language model to a `blip2-t5` model bundle
(docs/model-bundle.md, "BLIP-2 Flan-T5 bundles")."""

import copy
import json

import torch

import shoplens_export
from shoplens_export import bundle, export, graphs, graphs_t5
from shoplens_export import vision_tower as tower
from shoplens_export.errors import ExportError

ARCHITECTURE = "blip2-t5"
FLOAT16_REFUSAL = (
    "float16 is not supported for BLIP-2 with a T5/Flan-T5 language model: T5's activations overflow "
    "the float16 range (Hugging Face: T5 checkpoints cannot be run in fp16; its T5 code clamps infinities "
    "only to let training continue); export float32 (the default)")


def is_t5(model):
    return bool(getattr(model.config.text_config, "is_encoder_decoder", False))


def export_model(model, tokenizer_json, info, out, dtype="float32", external_data=False, quantize=None):
    """Writes vision.onnx, embed.onnx, encoder.onnx, decoder.onnx, tokenizer.json and manifest.json.

    Same contract as `export.export_model`, for a `Blip2ForConditionalGeneration` whose language
    model is a `T5ForConditionalGeneration`. float32 only (see FLOAT16_REFUSAL).
    """
    if dtype == "float16":
        raise ExportError(FLOAT16_REFUSAL)
    if dtype != "float32":
        raise ExportError(f"unknown dtype {dtype}: expected float32 (float16 is refused for T5)")
    if quantize is not None:
        raise ExportError("--quantize is not supported for BLIP-2 T5 bundles yet: export float32 without it")
    out = export.check_output_dir(out)
    vision_tower = tower.describe(model, dtype)
    model = copy.deepcopy(model).float().eval()
    cfg = model.config.text_config
    num_layers, num_heads, head_dim = cfg.num_decoder_layers, cfg.num_heads, cfg.d_kv
    hidden = cfg.d_model
    image_size = model.config.vision_config.image_size

    files = []
    files += export.export_vision(model, out, torch.float32, external_data)
    files += export._export_graph(graphs.EmbedGraph(model), (torch.ones(2, 3, dtype=torch.long),), out / "embed.onnx",
                                  ["input_ids"], ["inputs_embeds"],
                                  {"input_ids": {0: "batch", 1: "sequence"},
                                   "inputs_embeds": {0: "batch", 1: "sequence"}}, external_data)
    # Example shapes are all > 1 and distinct so that the tracer keeps every axis symbolic.
    batch, enc_len, new_len, past_len = 2, 5, 3, 4
    enc_in, enc_out = graphs_t5.encoder_io_names(num_layers)
    enc_axes = {"inputs_embeds": {0: "batch", 1: "encoder_sequence"},
                "attention_mask": {0: "batch", 1: "encoder_sequence"}}
    enc_axes.update({n: {0: "batch", 1: "encoder_sequence"} for n in enc_out[:1]})
    enc_axes.update({n: {0: "batch", 2: "encoder_sequence"} for n in enc_out[1:]})
    files += export._export_graph(graphs_t5.EncoderGraph(model),
                                  (torch.zeros(batch, enc_len, hidden), torch.ones(batch, enc_len, dtype=torch.long)),
                                  out / "encoder.onnx", enc_in, enc_out, enc_axes, external_data)
    dec_in, dec_out = graphs_t5.decoder_io_names(num_layers)
    example = [torch.zeros(batch, new_len, hidden), torch.ones(batch, past_len + new_len, dtype=torch.long),
               torch.ones(batch, enc_len, dtype=torch.long)]
    for _ in range(num_layers):
        example += [torch.zeros(batch, num_heads, past_len, head_dim), torch.zeros(batch, num_heads, past_len, head_dim),
                    torch.zeros(batch, num_heads, enc_len, head_dim), torch.zeros(batch, num_heads, enc_len, head_dim)]
    dec_axes = {"inputs_embeds": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total_sequence"},
                "encoder_attention_mask": {0: "batch", 1: "encoder_sequence"}, "logits": {0: "batch"}}
    for n in dec_in[3:]:
        dec_axes[n] = {0: "batch", 2: "encoder_sequence" if ".encoder." in n else "past_sequence"}
    dec_axes.update({n: {0: "batch", 2: "total_sequence"} for n in dec_out[1:]})
    files += export._export_graph(graphs_t5.DecoderGraph(model), tuple(example), out / "decoder.onnx", dec_in, dec_out,
                                  dec_axes, external_data)

    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    files.append("tokenizer.json")
    entries = bundle.file_entries(out, files)
    weights_hash = bundle.hashlib.sha256("".join(entries[n]["sha256"] for n in sorted(entries)).encode()).hexdigest()[:8]
    manifest = {
        "format_version": shoplens_export.FORMAT_VERSION,
        "model_id": info["model_id"],
        "model_version": f"{info['name']}-{weights_hash}",
        "architecture": ARCHITECTURE,
        "dtype": dtype,
        "num_query_tokens": model.config.num_query_tokens,
        "vision": dict(info["vision"], image_size=image_size),
        "vision_tower": vision_tower,
        "text": {
            "hidden_size": hidden, "num_layers": num_layers, "num_encoder_layers": cfg.num_layers,
            "num_heads": num_heads, "head_dim": head_dim, "vocab_size": cfg.vocab_size,
            "relative_attention_num_buckets": cfg.relative_attention_num_buckets,
            "relative_attention_max_distance": cfg.relative_attention_max_distance,
        },
        "tokens": info["tokens"],
        "prompt": {
            "padding_side": info["padding_side"],
            "question_template": export.QUESTION_TEMPLATE,
            "turn_template": export.TURN_TEMPLATE,
            "turn_separator": export.TURN_SEPARATOR,
        },
        "files": entries,
        "exporter": {
            "name": "shoplens-export", "version": shoplens_export.__version__,
            "transformers": export._version("transformers"), "torch": torch.__version__.split("+")[0],
            "onnx_opset": shoplens_export.ONNX_OPSET, "seed": info.get("seed"), "preset": info.get("preset"),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for stale in ("vision.onnx.data", "embed.onnx.data", "encoder.onnx.data", "decoder.onnx.data"):
        if stale not in files and (out / stale).exists():
            (out / stale).unlink()
    return manifest
