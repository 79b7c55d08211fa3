"""The model loop on small inputs: catalog -> dataset -> finetune -> export (float32, int8) -> evaluate."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from shoplens_export import bundle, catalog, dataset
from shoplens_export.cli import main

MODEL_EXPORT = Path(__file__).resolve().parents[1]
JAVA_PROMPTS = ["What type of product is this?", "What colour is it?", "What material is it made of?",
                "What pattern does it have?", "What style is it?"]


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory):
    out = tmp_path_factory.mktemp("catalog")
    catalog.generate(out, 30, seed=5, image_size=48, progress=False)
    return out


@pytest.fixture(scope="module")
def small_dataset(small_catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    dataset.build(small_catalog, out, seed=3, val_fraction=0.2, test_fraction=0.2, quiet=True)
    return out


@pytest.fixture(scope="module")
def tiny_finetuned(small_dataset, tmp_path_factory):
    """A few BLIP-2-recipe steps on the tiny preset (Q-Former, query tokens and projection trained)."""
    out = tmp_path_factory.mktemp("finetuned")
    code = main(["finetune", "--base", "tiny", "--data", str(small_dataset), "--out", str(out), "--epochs", "1",
                 "--batch-size", "8", "--max-train-rows", "48", "--val-loss-rows", "14", "--val-samples", "7",
                 "--lr", "1e-2", "--seed", "1234", "--threads", "1"])
    assert code == 0
    return out


def _files(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_should_write_the_same_catalog_bytes_for_the_same_seed(small_catalog, tmp_path):
    catalog.generate(tmp_path, 30, seed=5, image_size=48, progress=False)

    assert _files(tmp_path) == _files(small_catalog)
    other = tmp_path / "other-seed"
    catalog.generate(other, 30, seed=6, image_size=48, progress=False)
    assert (other / "products.jsonl").read_bytes() != (small_catalog / "products.jsonl").read_bytes()


def test_should_write_products_with_the_avro_product_fields(small_catalog):
    rows = [json.loads(line) for line in (small_catalog / "products.jsonl").read_text().splitlines()]

    assert len(rows) == 30
    assert set(rows[0]) == {"productId", "title", "category", "attributes", "image", "stockQuantity", "inStock",
                            "updatedAt"}
    assert set(rows[0]["image"]) == {"uri", "sha256", "contentType", "sizeBytes"}
    sneakers = next(r for r in rows if r["attributes"]["category"] == "sneakers")
    assert sneakers["attributes"]["material"] == "canvas" and sneakers["attributes"]["outdoor"] == "yes"
    assert all((small_catalog / r["image"]["uri"]).is_file() for r in rows)
    meta = json.loads((small_catalog / "catalog.json").read_text())
    assert len(meta["vocabulary"]["colour"]) >= 8 and meta["vocabulary"]["pattern"] == list(catalog.PATTERNS)


def test_should_split_by_product_and_ask_the_java_prompts(small_dataset):
    rows = dataset.load(small_dataset)

    split_of = {}
    for r in rows:
        assert split_of.setdefault(r["productId"], r["split"]) == r["split"], r["productId"]
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    questions = {r["question"] for r in rows}
    assert set(JAVA_PROMPTS) <= questions
    assert "what colour are the sneakers?" in questions and "Is this shoe suitable for outdoor activities?" in questions
    captions = [r for r in rows if r["type"] == "caption"]
    assert captions and all(r["question"] is None and r["answer"].startswith("a ") for r in captions)
    meta = json.loads((small_dataset / "dataset.json").read_text())
    assert sum(sum(c.values()) for c in meta["counts"].values()) == len(rows) == meta["rows"]


def test_should_count_and_skip_bad_rows(small_catalog, tmp_path, capsys):
    cat = tmp_path / "catalog"
    (cat / "images").mkdir(parents=True)
    lines = (small_catalog / "products.jsonl").read_text().splitlines()[:4]
    for line in lines:
        uri = json.loads(line)["image"]["uri"]
        (cat / uri).write_bytes((small_catalog / uri).read_bytes())
    missing = json.loads(lines[0])
    missing["productId"], missing["image"]["uri"] = "gone", "images/gone.png"
    (cat / "products.jsonl").write_text("\n".join(lines + ["{not json", json.dumps(missing)]) + "\n")
    curated = tmp_path / "curated.jsonl"
    good = {"image": "catalog/" + json.loads(lines[1])["image"]["uri"], "productId": "c1", "type": "colour",
            "question": "Which colour?", "answer": "red", "split": "train"}
    curated.write_text("\n".join(json.dumps(r) for r in [
        good,
        dict(good, type="size"),
        dict(good, image="catalog/images/nowhere.png"),
    ]) + "\n[broken\n")

    meta = dataset.build(cat, tmp_path / "out", seed=1, curated=[curated])

    assert meta["skipped"] == {"missing image": 2, "unknown attribute": 1, "unreadable line": 2}
    err_lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skipped ")]
    assert len(err_lines) == 5
    rows = dataset.load(tmp_path / "out")
    assert len({r["productId"] for r in rows}) == 5  # 4 products + the curated one
    assert any(r["productId"] == "c1" and r["answer"] == "red" for r in rows)


def test_should_finetune_the_tiny_preset_and_write_a_report(tiny_finetuned):
    report = json.loads((tiny_finetuned / "report.json").read_text())

    assert (tiny_finetuned / "config.json").is_file() and (tiny_finetuned / "report.md").is_file()
    assert report["hyper_parameters"]["train"] == "qformer" and len(report["epochs"]) == 1
    assert report["epochs"][0]["train_loss"] > 0 and set(report["epochs"][0]["val_accuracy"]) <= set(dataset.TYPES)


def test_should_keep_vision_and_language_model_bit_identical_under_the_blip2_recipe(tiny_finetuned):
    from transformers import Blip2ForConditionalGeneration

    from shoplens_export import presets

    before, _ = presets.build(presets.TINY, 1234)
    after = Blip2ForConditionalGeneration.from_pretrained(tiny_finetuned)

    def same(a, b):
        sa, sb = a.state_dict(), b.state_dict()
        return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)

    assert same(before.vision_model, after.vision_model)
    assert same(before.language_model, after.language_model)
    assert not same(before.qformer, after.qformer)
    assert not torch.equal(before.query_tokens, after.query_tokens)


def test_should_export_the_finetuned_checkpoint_quantized_and_evaluate_it(tiny_finetuned, small_dataset, tmp_path):
    from shoplens_export import evaluate
    from shoplens_export.runtime import BundleRunner

    code = main(["export", "--checkpoint", str(tiny_finetuned), "--out", str(tmp_path), "--quantize", "int8",
                 "--model-id", "shoplens/tiny-finetuned"])

    assert code == 0
    manifest = bundle.load_manifest(tmp_path)  # checksums verified
    assert manifest["quantization"] == "int8-dynamic" and manifest["dtype"] == "float32"
    assert manifest["model_version"].startswith("tiny-finetuned-int8-")
    BundleRunner(tmp_path)  # ONNX Runtime loads the quantized graphs
    result = evaluate.evaluate(tmp_path, small_dataset, "test", limit=7, quiet=True)
    assert result["rows"] == 7 and result["quantization"] == "int8-dynamic"


def test_should_refuse_a_base_that_is_not_blip2_with_one_line(small_dataset, tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "config.json").write_text(json.dumps({"model_type": "llava"}))

    run = subprocess.run([sys.executable, "-m", "shoplens_export", "finetune", "--base", str(tmp_path / "base"),
                          "--data", str(small_dataset), "--out", str(tmp_path / "out")],
                         cwd=MODEL_EXPORT, capture_output=True, text=True)

    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1 and "not BLIP-2" in run.stderr


def test_should_build_gpt2_bpe_with_opt_special_tokens():
    from shoplens_export import tokenizer

    tok = tokenizer.gpt2_bpe()

    assert [tok.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<image>")] == [0, 1, 2, 3, 50260]
    ids = tok.encode("Question: what colour are the sneakers? Answer:").ids
    assert ids[0] == 2 and tok.decode(ids, skip_special_tokens=True) == "Question: what colour are the sneakers? Answer:"
    assert tok.encode(" white", add_special_tokens=False).tokens == ["\u0120white"]


def test_should_resume_after_the_last_finished_epoch(small_dataset, tmp_path):
    args = ["finetune", "--base", "tiny", "--data", str(small_dataset), "--out", str(tmp_path), "--batch-size", "8",
            "--max-train-rows", "16", "--val-loss-rows", "7", "--val-samples", "7", "--seed", "3", "--threads", "1"]
    assert main(args + ["--epochs", "1", "--keep-state"]) == 0
    first = json.loads((tmp_path / "report.json").read_text())["epochs"]

    assert main(args + ["--epochs", "2", "--resume"]) == 0

    epochs = json.loads((tmp_path / "report.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2] and epochs[0] == first[0]
    assert not (tmp_path / "training-state.pt").exists()


def _vision_state(path):
    from transformers import Blip2ForConditionalGeneration

    return Blip2ForConditionalGeneration.from_pretrained(path).vision_model.state_dict()


def test_should_warm_up_the_vision_tower_then_keep_it_frozen(small_dataset, tmp_path):
    from shoplens_export import presets

    args = ["finetune", "--base", "tiny", "--data", str(small_dataset), "--batch-size", "8", "--train", "all",
            "--max-train-rows", "48", "--val-loss-rows", "7", "--val-samples", "7", "--seed", "5", "--threads", "1",
            "--vision-epochs", "2"]
    # Given the warm-up alone (no language-model epoch) and the warm-up followed by a frozen-tower epoch
    assert main(args + ["--out", str(tmp_path / "warm"), "--epochs", "0"]) == 0
    assert main(args + ["--out", str(tmp_path / "full"), "--epochs", "1", "--freeze-vision"]) == 0

    base = presets.build(presets.TINY, 5)[0].vision_model.state_dict()
    warm, full = _vision_state(tmp_path / "warm"), _vision_state(tmp_path / "full")
    # Then the warm-up trained the tower, and the epoch after it left the tower bit-identical
    assert any(not torch.equal(base[k], warm[k]) for k in base)
    assert all(torch.equal(warm[k], full[k]) for k in warm)
    report = json.loads((tmp_path / "full" / "report.json").read_text())
    warmup = report["vision_warmup"]
    assert [e["epoch"] for e in warmup["epochs"]] == [1, 2] and warmup["epochs"][0]["loss"] > 0
    assert set(warmup["epochs"][0]["val_accuracy"]) == {"category", "colour", "pattern"}
    assert report["hyper_parameters"]["vision_frozen"] is True and len(report["epochs"]) == 1
    assert "Vision warm-up: 2 epochs" in (tmp_path / "full" / "report.md").read_text()


def test_should_refuse_a_vision_warm_up_under_the_blip2_recipe(small_dataset, tmp_path):
    run = subprocess.run([sys.executable, "-m", "shoplens_export", "finetune", "--base", "tiny", "--data",
                          str(small_dataset), "--out", str(tmp_path), "--vision-epochs", "1"],
                         cwd=MODEL_EXPORT, capture_output=True, text=True)

    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and "--train all" in run.stderr


def test_should_train_follow_ups_with_an_earlier_turn_about_the_same_image(small_dataset):
    from shoplens_export import finetune, presets

    rows = dataset.load(small_dataset, "train")

    none = finetune.earlier_turns(rows, 0.0, seed=1)
    every = finetune.earlier_turns(rows, 1.0, seed=1)

    assert all(h == () for h in none)
    for row, history in zip(rows, every):
        if row["question"] is None:
            assert history == ()
            continue
        (question, answer), = history
        earlier = [r for r in rows if r["image"] == row["image"] and r["question"] == question]
        assert earlier and earlier[0]["answer"] == answer and earlier[0]["type"] != row["type"]
    # laid out as the engine lays out a conversation (PromptBuilder, the manifest's templates)
    model, processor = presets.build(presets.TINY, 1)
    encoder = finetune.Encoder(model, processor)
    ids, labels = encoder.example({"question": "What colour is it?", "answer": "red"}, (("What is this?", "hat"),))
    prompt = ids[:labels.index(next(x for x in labels if x != -100))]
    assert processor.tokenizer.decode(prompt[model.config.num_query_tokens:], skip_special_tokens=True) == \
        "Question: What is this? Answer: hat. Question: What colour is it? Answer:"
