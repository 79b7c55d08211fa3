"""Checks a local checkpoint directory's files before anything is loaded or exported.

A user who copied or downloaded a checkpoint half-way (a shard cut short, a tokenizer file left
behind, a tokenizer from another model) gets one error that names the file and says what was
expected, instead of a stack trace from deep inside transformers or an export that runs for
minutes and then fails. Only the files' headers are read: a 15 GB checkpoint is checked in
milliseconds.
"""

import json
import struct
from pathlib import Path

from shoplens_export.errors import ExportError

IMAGE_TOKEN = "<image>"
# The language model's input embedding table, as Blip2ForConditionalGeneration names it (OPT, T5).
EMBEDDING_KEYS = ("language_model.model.decoder.embed_tokens.weight", "language_model.shared.weight",
                  "language_model.encoder.embed_tokens.weight")
SLOW_TOKENIZER_FILES = {"vocab.json": "merges.txt"}  # byte-level BPE (GPT-2, OPT): both or neither


def check(directory, config):
    """Raises ExportError naming the first file that is missing, cut short or inconsistent.

    `config` is the parsed config.json of `directory`."""
    d = Path(directory)
    # The hub repositories have preprocessor_config.json; transformers 5's save_pretrained puts the
    # image processor's settings into processor_config.json instead.
    if not (d / "preprocessor_config.json").is_file() and "image_processor" not in (
            _json(d / "processor_config.json") if (d / "processor_config.json").is_file() else {}):
        _require(d, "preprocessor_config.json", "the image processor's settings (size, mean, std, resampling)")
    _require(d, "tokenizer_config.json", "the tokenizer's class and special tokens")
    has_fast = (d / "tokenizer.json").is_file()
    for first, second in SLOW_TOKENIZER_FILES.items():
        if (d / first).is_file() and not (d / second).is_file() and not has_fast:
            raise ExportError(f"{d / second}: missing; {first} is there and needs it (or a tokenizer.json)")
    if not has_fast and not any((d / f).is_file() for f in ("vocab.json", "spiece.model")):
        raise ExportError(f"{d / 'tokenizer.json'}: missing; expected tokenizer.json (or the slow tokenizer's "
                          f"vocab.json + merges.txt / spiece.model) beside config.json")
    vocab = _tokenizer_vocabulary(d)
    _check_image_token(d, config, vocab)
    shards = _weight_files(d)
    headers = {shard: _safetensors_header(shard) for shard in shards if shard.suffix == ".safetensors"}
    _check_vocabulary_fits(d, config, vocab, headers)


def _require(d, name, what):
    if not (d / name).is_file():
        raise ExportError(f"{d / name}: missing; expected {what} beside config.json, as the hub repository has it")


def _json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"{path}: unreadable JSON ({e})") from None


def _tokenizer_vocabulary(d):
    """{file name: {token: id}} for every tokenizer file that assigns ids (vocabulary and added tokens)."""
    out = {}
    if (d / "tokenizer.json").is_file():
        state = _json(d / "tokenizer.json")
        model_vocab = (state.get("model") or {}).get("vocab")
        if isinstance(model_vocab, dict):  # BPE, WordPiece: {token: id}
            ids = dict(model_vocab)
        elif isinstance(model_vocab, list):  # Unigram: [[piece, score], ...], ids in order
            ids = {piece: i for i, (piece, _) in enumerate(model_vocab)}
        else:
            ids = {}
        for t in state.get("added_tokens") or []:
            ids[t["content"]] = t["id"]
        out["tokenizer.json"] = ids
    if (d / "vocab.json").is_file():
        out["vocab.json"] = dict(_json(d / "vocab.json"))
    if (d / "added_tokens.json").is_file():
        out["added_tokens.json"] = dict(_json(d / "added_tokens.json"))
    decoder = _json(d / "tokenizer_config.json").get("added_tokens_decoder") or {}
    if decoder:
        out["tokenizer_config.json"] = {v["content"]: int(k) for k, v in decoder.items()}
    return out


def _check_image_token(d, config, vocab):
    expected = config.get("image_token_index", config.get("image_token_id"))
    if expected is None:
        return  # an older BLIP-2 config: the tokenizer alone defines <image>, describe() checks it
    found = False
    for name, ids in vocab.items():
        if IMAGE_TOKEN in ids:
            found = True
            if ids[IMAGE_TOKEN] != expected:
                raise ExportError(f"{d / name}: maps {IMAGE_TOKEN} to id {ids[IMAGE_TOKEN]} but config.json says "
                                  f"image_token_index={expected}: inconsistent checkpoint (tokenizer from another "
                                  f"model?)")
    if not found:
        raise ExportError(f"{d / 'tokenizer.json'}: has no {IMAGE_TOKEN} token; config.json expects it at id "
                          f"{expected} (image_token_index)")


def _weight_files(d):
    index = d / "model.safetensors.index.json"
    if index.is_file():
        weight_map = _json(index).get("weight_map") or {}
        shards = sorted({d / f for f in weight_map.values()})
        for shard in shards:
            if not shard.is_file():
                raise ExportError(f"{shard}: missing; {index.name} lists it for "
                                  f"{sum(1 for f in weight_map.values() if d / f == shard)} weights")
        return shards
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (d / name).is_file():
            return [d / name]
    raise ExportError(f"{d}: no weights; expected model.safetensors, or model.safetensors.index.json and its "
                      f"shards, beside config.json")


def _safetensors_header(path):
    """The tensor table of a safetensors file, after checking that the file holds every byte its
    header describes (8-byte length, JSON header, then the data)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ExportError(f"{path}: truncated: {size} bytes, not even the 8-byte header length of a "
                              f"safetensors file")
        (n,) = struct.unpack("<Q", head)
        if 8 + n > size:
            raise ExportError(f"{path}: truncated: its header alone is {8 + n} bytes but the file has {size}; "
                              f"download or copy it again")
        try:
            header = json.loads(f.read(n))
        except ValueError:
            raise ExportError(f"{path}: not a safetensors file (unreadable header)") from None
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    end = max((v["data_offsets"][1] for v in tensors.values()), default=0)
    expected = 8 + n + end
    if size < expected:
        raise ExportError(f"{path}: truncated: {size} bytes, its header describes {expected} ({expected - size} "
                          f"missing); download or copy it again")
    return tensors


def _check_vocabulary_fits(d, config, vocab, headers):
    text = config.get("text_config") or {}
    rows = text.get("vocab_size")
    for shard, tensors in headers.items():
        for key in EMBEDDING_KEYS:
            if key in tensors:
                table = tensors[key]["shape"][0]
                if rows is not None and table != rows:
                    raise ExportError(f"{shard}: {key} has {table} rows but config.json says "
                                      f"text_config.vocab_size={rows}: inconsistent checkpoint")
                rows = table
    if rows is None:
        return  # the language model's default; transformers checks the shapes when loading
    for name, ids in vocab.items():
        if ids:
            largest = max(ids.values())
            if largest >= rows:
                token = max(ids, key=ids.get)
                raise ExportError(f"{d / name}: the vocabulary reaches id {largest} ({token!r}) but the language "
                                  f"model's embedding table has {rows} rows (config.json text_config.vocab_size): "
                                  f"expected every id below {rows}")
