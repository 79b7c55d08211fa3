"""Where a model comes from: a Hugging Face checkpoint (hub id or local directory) or a preset."""

import json
from pathlib import Path

from shoplens_export.errors import ExportError

_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def describe(model, processor, model_id, name, stop_token_ids):
    """Manifest fields taken from the Hugging Face processor and configs."""
    ip = processor.image_processor
    tok = processor.tokenizer
    size = ip.size if isinstance(ip.size, dict) else ip.size.__dict__
    if size.get("height") != size.get("width"):
        raise ExportError(f"image processor size {size}: only square resizing is supported")
    if size.get("height") != model.config.vision_config.image_size:
        raise ExportError(f"image processor resizes to {size.get('height')} but the vision tower expects "
                          f"{model.config.vision_config.image_size}: inconsistent checkpoint")
    resample = int(ip.resample)
    image_token_id = tok.convert_tokens_to_ids("<image>")
    if image_token_id != model.config.image_token_id:
        raise ExportError(f"tokenizer maps <image> to {image_token_id} but the model config says "
                          f"image_token_index={model.config.image_token_id}: inconsistent checkpoint")
    text_cfg = model.config.text_config
    if len(tok) > text_cfg.vocab_size:
        raise ExportError(f"tokenizer has {len(tok)} tokens but the language model only {text_cfg.vocab_size} "
                          f"embedding rows: inconsistent checkpoint")
    return {
        "model_id": model_id,
        "name": name,
        "vision": {
            "resample": _RESAMPLE.get(resample, str(resample)),
            "do_resize": bool(ip.do_resize),
            "do_rescale": bool(ip.do_rescale), "rescale_factor": float(ip.rescale_factor),
            "do_normalize": bool(ip.do_normalize),
            "image_mean": [float(x) for x in ip.image_mean], "image_std": [float(x) for x in ip.image_std],
            "do_convert_rgb": bool(ip.do_convert_rgb),
        },
        "tokens": _tokens(text_cfg, tok, image_token_id, stop_token_ids),
        "padding_side": tok.padding_side,
    }


def _tokens(text_cfg, tok, image_token_id, stop_token_ids):
    eos = text_cfg.eos_token_id if isinstance(text_cfg.eos_token_id, int) else text_cfg.eos_token_id[0]
    if text_cfg.is_encoder_decoder:
        # T5 has no bos: the encoder input ends with </s>, the decoder starts from decoder_start_token_id.
        if text_cfg.decoder_start_token_id is None:
            raise ExportError("the T5 language model's config has no decoder_start_token_id: inconsistent checkpoint")
        return {"image_token_id": image_token_id, "eos_token_id": eos, "pad_token_id": tok.pad_token_id,
                "decoder_start_token_id": text_cfg.decoder_start_token_id, "stop_token_ids": list(stop_token_ids)}
    return {"image_token_id": image_token_id, "bos_token_id": text_cfg.bos_token_id, "eos_token_id": eos,
            "pad_token_id": tok.pad_token_id, "stop_token_ids": list(stop_token_ids)}


def _fail_unsupported(config_dict, where):
    model_type = config_dict.get("model_type")
    text_type = (config_dict.get("text_config") or {}).get("model_type", "opt")
    if model_type not in ("blip-2", "blip_2"):
        raise ExportError(f"{where}: unknown architecture model_type={model_type!r}: only BLIP-2 with an OPT "
                          f"(blip2-opt) or a T5/Flan-T5 (blip2-t5) language model is supported")
    if text_type in ("mt5", "umt5"):
        raise ExportError(f"{where}: BLIP-2 with a {text_type!r} language model is not supported: only OPT "
                          f"(blip2-opt) and T5/Flan-T5 (blip2-t5)")
    if text_type not in ("opt", "t5"):
        raise ExportError(f"{where}: unknown architecture: BLIP-2 with a {text_type!r} language model; only OPT "
                          f"(blip2-opt) and T5/Flan-T5 (blip2-t5) are supported")


def checkpoint(path_or_id):
    """Loads a BLIP-2 OPT or T5 checkpoint; returns (model, processor, tokenizer_json, info)."""
    import transformers
    from transformers import AutoTokenizer, Blip2ForConditionalGeneration, Blip2Processor
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    local = Path(path_or_id)
    if local.exists():
        if not (local / "config.json").is_file():
            raise ExportError(f"{local}: not a Hugging Face checkpoint (no config.json)")
        try:
            config_dict = json.loads((local / "config.json").read_text())
        except (OSError, ValueError) as e:
            raise ExportError(f"{local / 'config.json'}: unreadable ({e})") from None
    else:
        try:
            from huggingface_hub import hf_hub_download

            config_dict = json.loads(Path(hf_hub_download(path_or_id, "config.json")).read_text())
        except Exception as e:  # the hub client raises many types; all mean "cannot get it"
            raise ExportError(f"checkpoint {path_or_id!r} not found: not a local directory and not downloadable "
                              f"from the Hugging Face hub ({type(e).__name__})") from None
    _fail_unsupported(config_dict, path_or_id)
    if local.exists():
        from shoplens_export import preflight

        preflight.check(local, config_dict)

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        model, loading = Blip2ForConditionalGeneration.from_pretrained(path_or_id, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise ExportError(f"{path_or_id}: cannot load the BLIP-2 weights: {str(e).splitlines()[0]}") from None
    missing = [k for k in loading.get("missing_keys", []) if "position_ids" not in k]
    if missing or loading.get("mismatched_keys"):
        what = missing or loading.get("mismatched_keys")
        raise ExportError(f"{path_or_id}: inconsistent checkpoint: {len(what)} weights missing or of the wrong "
                          f"shape, first {sorted(what)[0]}")
    model.eval()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path_or_id)
        image_processor = BlipImageProcessorPil.from_pretrained(path_or_id)
    except (OSError, ValueError) as e:
        raise ExportError(f"{path_or_id}: cannot load the tokenizer or image processor: "
                          f"{str(e).splitlines()[0]}") from None
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizer,
                               num_query_tokens=model.config.num_query_tokens)
    if not model.config.text_config.is_encoder_decoder:
        tokenizer.padding_side = "left"  # the BLIP-2 OPT processors ship with it; batching needs it
    # T5 keeps its tokenizer's right padding: the encoder masks pads wherever they are.
    backend = tokenizer.backend_tokenizer
    probe = "Question: what is this? Answer:"
    if backend.encode(probe).ids != tokenizer(probe)["input_ids"]:
        raise ExportError(f"{path_or_id}: tokenizer.json does not reproduce the Hugging Face tokenizer "
                          f"(special tokens differ): cannot export")
    from shoplens_export.presets import stop_token_ids

    stop = stop_token_ids(model)
    name = Path(str(path_or_id).rstrip("/")).name
    info = describe(model, processor, model_id=str(path_or_id), name=name, stop_token_ids=stop)
    return model, processor, backend.to_str(), info
