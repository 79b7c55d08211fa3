"""Exports a Hugging Face BLIP-2 OPT model to a ShopLens model bundle (docs/model-bundle.md)."""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

import shoplens_export
from shoplens_export import bundle, graphs
from shoplens_export import vision_tower as tower
from shoplens_export.errors import ExportError

# ONNX protobufs cannot exceed 2 GiB; larger graphs keep their weights in `<graph>.onnx.data`.
PROTOBUF_LIMIT = 2 * 1024**3 - 64 * 1024**2

QUESTION_TEMPLATE = "Question: {question} Answer:"
TURN_TEMPLATE = "Question: {question} Answer: {answer}."
TURN_SEPARATOR = " "


def check_output_dir(out):
    """Creates `out` if needed and fails early, in one line, when it cannot be written."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as e:
        raise ExportError(f"output directory {out} is not writable: {e.strerror or e}") from None
    return out


def _cast_for_dtype(model, dtype):
    """Returns the model in `dtype`, with the Q-Former and query tokens kept in float32 as Hugging
    Face does for half-precision BLIP-2 (`_keep_in_fp32_modules`)."""
    if dtype == "float32":
        return model.float()
    model = model.half()
    model.qformer.float()
    model.query_tokens.data = model.query_tokens.data.float()
    return model


def _export_graph(module, args, path, input_names, output_names, dynamic_axes, external_data):
    """Exports with the TorchScript exporter (opset 18), then rewrites the file with onnx so that
    large weights go to one `<name>.data` file beside it."""
    import onnx

    module.eval()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmp_path = Path(tmp) / path.name
        with torch.no_grad():
            torch.onnx.export(
                module, args, str(tmp_path), input_names=input_names, output_names=output_names,
                dynamic_axes=dynamic_axes, opset_version=shoplens_export.ONNX_OPSET, dynamo=False,
                do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
            )
        proto = onnx.load(str(tmp_path), load_external_data=True)
        weight_bytes = sum(t.ByteSize() for t in proto.graph.initializer)
        data_name = path.name + ".data"
        if (path.parent / data_name).exists():
            (path.parent / data_name).unlink()
        if external_data or weight_bytes > PROTOBUF_LIMIT:
            onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                            location=data_name, size_threshold=1024)
            return [path.name, data_name]
        onnx.save_model(proto, str(path))
        return [path.name]


def export_vision(model, out, float_type, external_data):
    """Writes `vision.onnx` of a generation bundle (OPT or T5): pixel_values -> query_embeds (the
    language model's image tokens) and image_embeds (the vision tower's output, which a retrieval
    bundle with the same tower can take instead of running its own). Returns the files written."""
    image_size = model.config.vision_config.image_size
    pixel_values = torch.zeros(2, 3, image_size, image_size, dtype=float_type)
    return _export_graph(graphs.VisionWithTowerGraph(model), (pixel_values,), out / "vision.onnx",
                         ["pixel_values"], ["query_embeds", tower.OUTPUT],
                         {"pixel_values": {0: "batch"}, "query_embeds": {0: "batch"}, tower.OUTPUT: {0: "batch"}},
                         external_data)


def quantize_int8(path):
    """ONNX Runtime dynamic quantization of a graph's MatMuls, in place: int8 weights with a scale,
    activations quantized on the fly. Inputs and outputs stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / path.name
        quantize_dynamic(str(path), str(target), op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8,
                         per_channel=False, reduce_range=False)
        shutil.move(str(target), str(path))


def export_model(model, tokenizer_json, info, out, dtype="float32", external_data=False, quantize=None):
    """Writes vision.onnx, embed.onnx, decoder.onnx, tokenizer.json and manifest.json into `out`.

    `model` is a `Blip2ForConditionalGeneration` with an OPT language model; `tokenizer_json` the
    `tokenizers` JSON that reproduces the Hugging Face tokenizer; `info` the manifest fields that
    do not come from the model (model_id, name, tokens, vision preprocessing, padding_side,
    preset, seed). The model is not modified: a copy is cast and exported in eval mode.
    """
    import copy

    from shoplens_export import export_t5

    if export_t5.is_t5(model):
        return export_t5.export_model(model, tokenizer_json, info, out, dtype=dtype, external_data=external_data,
                                      quantize=quantize)
    out = check_output_dir(out)
    if dtype not in ("float32", "float16"):
        raise ExportError(f"unknown dtype {dtype}: expected float32 or float16")
    if quantize not in (None, "int8"):
        raise ExportError(f"unknown quantization {quantize}: expected int8")
    if quantize and (dtype != "float32" or external_data):
        raise ExportError("--quantize int8 needs a float32 export without --external-data")
    # The checksum is of the weights as loaded (float32 values), before any cast: a float16 export of
    # a tower has the same checksum as a float32 one and says its precision beside it.
    vision_tower = tower.describe(model, "int8-dynamic" if quantize else dtype)
    model = _cast_for_dtype(copy.deepcopy(model), dtype).eval()
    float_type = torch.float16 if dtype == "float16" else torch.float32
    text_cfg = model.config.text_config
    num_layers, num_heads = text_cfg.num_hidden_layers, text_cfg.num_attention_heads
    head_dim = text_cfg.hidden_size // num_heads
    embed_dim = text_cfg.word_embed_proj_dim or text_cfg.hidden_size
    image_size = model.config.vision_config.image_size

    files = export_vision(model, out, float_type, external_data)
    input_ids = torch.ones(2, 3, dtype=torch.long)
    files += _export_graph(graphs.EmbedGraph(model), (input_ids,), out / "embed.onnx", ["input_ids"],
                           ["inputs_embeds"], {"input_ids": {0: "batch", 1: "sequence"},
                                               "inputs_embeds": {0: "batch", 1: "sequence"}}, external_data)
    # Example shapes are all > 1 and distinct so that the tracer keeps every axis symbolic.
    batch, new_len, past_len = 2, 3, 4
    example = [
        torch.zeros(batch, new_len, embed_dim, dtype=float_type),
        torch.ones(batch, past_len + new_len, dtype=torch.long),
        torch.arange(past_len, past_len + new_len).repeat(batch, 1),
    ] + [torch.zeros(batch, num_heads, past_len, head_dim, dtype=float_type) for _ in range(2 * num_layers)]
    input_names, output_names = graphs.decoder_io_names(num_layers)
    axes = {
        "inputs_embeds": {0: "batch", 1: "sequence"},
        "attention_mask": {0: "batch", 1: "total_sequence"},
        "position_ids": {0: "batch", 1: "sequence"},
        "logits": {0: "batch"},  # [batch, 1, vocab]: the last position only (format 2)
    }
    axes.update({n: {0: "batch", 2: "past_sequence"} for n in input_names[3:]})
    axes.update({n: {0: "batch", 2: "total_sequence"} for n in output_names[1:]})
    files += _export_graph(graphs.DecoderGraph(model), tuple(example), out / "decoder.onnx", input_names,
                           output_names, axes, external_data)

    if quantize == "int8":
        # The decoder (lm_head included) and the vision graph are MatMul-bound; embed.onnx is a
        # Gather, which dynamic quantization leaves alone.
        for name in ("vision.onnx", "decoder.onnx"):
            quantize_int8(out / name)
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    files.append("tokenizer.json")
    entries = bundle.file_entries(out, files)
    weights_hash = bundle.hashlib.sha256(
        "".join(entries[n]["sha256"] for n in sorted(entries)).encode()).hexdigest()[:8]

    manifest = {
        "format_version": shoplens_export.FORMAT_VERSION,
        "model_id": info["model_id"],
        "model_version": f"{info['name']}{'-int8' if quantize else ''}-{weights_hash}",
        "architecture": "blip2-opt",
        "dtype": dtype,
        **({"quantization": "int8-dynamic"} if quantize else {}),
        "num_query_tokens": model.config.num_query_tokens,
        "vision": dict(info["vision"], image_size=image_size),
        "vision_tower": vision_tower,
        "text": {
            "hidden_size": embed_dim, "num_layers": num_layers, "num_heads": num_heads, "head_dim": head_dim,
            "vocab_size": text_cfg.vocab_size, "max_position_embeddings": text_cfg.max_position_embeddings,
        },
        "tokens": info["tokens"],
        "prompt": {
            "padding_side": info["padding_side"],
            "question_template": QUESTION_TEMPLATE,
            "turn_template": TURN_TEMPLATE,
            "turn_separator": TURN_SEPARATOR,
        },
        "files": entries,
        "exporter": {
            "name": "shoplens-export", "version": shoplens_export.__version__,
            "transformers": _version("transformers"), "torch": torch.__version__.split("+")[0],
            "onnx_opset": shoplens_export.ONNX_OPSET, "seed": info.get("seed"), "preset": info.get("preset"),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    # Leftovers of an earlier export into the same directory would not be in the manifest.
    for stale in ("vision.onnx.data", "embed.onnx.data", "decoder.onnx.data"):
        if stale not in files and (out / stale).exists():
            (out / stale).unlink()
    return manifest


def _version(package):
    from importlib.metadata import version

    return version(package)
