"""The command line: exports from a checkpoint directory, and one-line errors with a non-zero exit."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shoplens_export import bundle
from shoplens_export.cli import main

MODEL_EXPORT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_source, tmp_path_factory):
    """The tiny preset saved as a Hugging Face checkpoint directory."""
    model, processor, _, _ = tiny_source
    path = tmp_path_factory.mktemp("tiny-checkpoint")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def _error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_should_export_local_checkpoint_to_the_same_graphs_as_the_preset(tiny_checkpoint, tiny_bundle, tmp_path,
                                                                           capsys):
    code = main(["export", "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path)])

    assert code == 0, capsys.readouterr().err
    manifest = bundle.load_manifest(tmp_path)
    preset = json.loads((tiny_bundle / "manifest.json").read_text())
    assert manifest["files"] == preset["files"]
    assert manifest["tokens"]["stop_token_ids"] == [2, 412]
    assert manifest["exporter"]["preset"] is None and manifest["model_id"] == str(tiny_checkpoint)


def test_should_export_a_local_t5_checkpoint_to_the_same_graphs_as_the_tiny_t5_preset(tmp_path, capsys):
    # Given the tiny-t5 preset saved as a Hugging Face checkpoint, and exported as a preset
    import transformers

    from shoplens_export import presets_t5

    transformers.logging.set_verbosity_error()
    model, processor = presets_t5.build()
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    assert main(["export", "--preset", "tiny-t5", "--out", str(tmp_path / "preset")]) == 0, capsys.readouterr().err

    # When the checkpoint is exported
    code = main(["export", "--checkpoint", str(tmp_path / "ckpt"), "--out", str(tmp_path / "out")])

    # Then it is the same blip2-t5 bundle, token ids from the checkpoint's configs
    assert code == 0, capsys.readouterr().err
    manifest = bundle.load_manifest(tmp_path / "out")
    preset = bundle.load_manifest(tmp_path / "preset")
    assert manifest["architecture"] == "blip2-t5" and manifest["files"] == preset["files"]
    assert manifest["tokens"] == {"image_token_id": 180, "eos_token_id": 1, "pad_token_id": 0,
                                  "decoder_start_token_id": 0, "stop_token_ids": [1, 155]}
    assert manifest["prompt"]["padding_side"] == "right"


def test_should_refuse_float16_for_a_t5_model_and_say_why(tmp_path, capsys):
    err = _error(capsys, ["export", "--preset", "tiny-t5", "--dtype", "float16", "--out", str(tmp_path)])

    assert "float16" in err and "T5" in err and "overflow" in err


def test_should_reject_mt5(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "blip-2", "text_config": {"model_type": "mt5"}}))

    err = _error(capsys, ["export", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "out")])

    assert "'mt5'" in err and "not supported" in err


def test_should_reject_unknown_architecture(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llava"}))

    err = _error(capsys, ["export", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "out")])

    assert "unknown architecture" in err and "llava" in err


def test_should_reject_directory_that_is_not_a_checkpoint(tmp_path, capsys):
    err = _error(capsys, ["export", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "out")])

    assert "no config.json" in err


def test_should_reject_checkpoint_whose_weights_are_missing(tiny_checkpoint, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_checkpoint.iterdir():
        if not f.name.endswith(".safetensors"):
            (broken / f.name).write_bytes(f.read_bytes())

    err = _error(capsys, ["export", "--checkpoint", str(broken), "--out", str(tmp_path / "out")])

    assert str(broken) in err


def test_should_reject_checkpoint_whose_tokenizer_disagrees_with_the_model(tiny_checkpoint, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_checkpoint.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    config = json.loads((broken / "config.json").read_text())
    config["image_token_index"] = 5
    (broken / "config.json").write_text(json.dumps(config))

    err = _error(capsys, ["export", "--checkpoint", str(broken), "--out", str(tmp_path / "out")])

    assert "inconsistent checkpoint" in err and "<image>" in err


def test_should_reject_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    err = _error(capsys, ["export", "--preset", "tiny", "--out", str(blocker / "bundle")])

    assert "not writable" in err


def test_should_exit_non_zero_with_one_line_from_the_real_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "shoplens_export", "export", "--checkpoint",
                             str(tmp_path / "does-not-exist"), "--out", str(tmp_path / "out")],
                            cwd=MODEL_EXPORT, capture_output=True, text=True, timeout=120,
                            env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})

    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: checkpoint") and "not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
