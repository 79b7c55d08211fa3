"""Retrieval training (finetune_retrieval.py): texts, hard negatives, metrics, and a tiny end-to-end
run (generation checkpoint -> retrieval training -> bundle -> held-out evaluation) in seconds."""

import json
import random

import numpy as np
import pytest
import torch

from shoplens_export import catalog, cli, finetune_retrieval as fr


def test_given_product_when_described_then_text_names_only_its_own_values():
    rnd = random.Random(3)
    attrs = {"category": "sneakers", "colour": "grey", "pattern": "striped", "material": "canvas",
             "style": "sporty", "outdoor": "yes"}
    other = dict(attrs, colour="red")
    named_colours = 0
    for _ in range(300):
        text, named = fr.describe(attrs, rnd)
        assert fr.satisfies(attrs, named)
        assert named["category"] == "sneakers" and "sneakers" in text
        if "colour" in named:
            named_colours += 1
            assert "grey" in text or "gray" in text
            assert not fr.satisfies(other, named)
        if "pattern" in named:
            assert "striped" in text
    assert 150 < named_colours < 300  # sometimes, not always


def test_given_rows_with_and_without_negatives_when_mining_then_never_a_positive():
    positives = torch.tensor([[True, True, False, False],
                              [True, True, True, True],
                              [False, False, True, False],
                              [False, True, False, True]])
    logits = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    for _ in range(50):
        cols, found = fr.hard_negatives(logits, positives, g)
        assert found.tolist() == [True, False, True, True]
        assert cols[1] == 1  # no negative: its own index
        for row in (0, 2, 3):
            assert not positives[row, cols[row]]


def test_given_features_when_ranked_then_metrics_follow_the_attributes():
    attrs = [{"category": "dress", "colour": "red", "pattern": "solid"},
             {"category": "dress", "colour": "blue", "pattern": "solid"},
             {"category": "sneakers", "colour": "white", "pattern": "striped"}]
    queries = fr.eval_queries(attrs)
    assert ("white sneakers", {"category": "sneakers", "colour": "white"}) in queries
    assert all(q[0] != "red sneakers" for q in queries)  # no product fits it: left out
    # One dimension per attribute value; an image's query vectors point at the sum of its values
    # (one of them slightly off), a text at the sum of the values it names.
    values = sorted({v for a in attrs for v in a.values()})
    dim = len(values)

    def unit(vs):
        x = np.zeros(dim, np.float32)
        for v in vs:
            x[values.index(v)] = 1
        return x / np.linalg.norm(x)

    images = np.stack([np.stack([unit(a.values()), unit(list(a.values()) + [a["colour"]])]) for a in attrs])
    texts = np.stack([unit(named.values()) for _, named in queries])
    good = fr.ranking_metrics(images, texts, queries, attrs)
    bad = fr.ranking_metrics(images, -texts, queries, attrs)
    assert good["text_to_product"]["all"]["recall@1"] > bad["text_to_product"]["all"]["recall@1"]
    assert good["text_to_product"]["colour"]["recall@1"] == 1.0
    assert good["image_to_product"]["images"] == 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny generation checkpoint, a 60-product catalog, one retrieval epoch, its bundle."""
    import transformers

    from shoplens_export import dataset, presets

    transformers.logging.set_verbosity_error()
    root = tmp_path_factory.mktemp("retrieval-train")
    model, processor = presets.build(presets.TINY)
    model.save_pretrained(root / "generation")
    processor.save_pretrained(root / "generation")
    catalog.generate(root / "catalog", 60, seed=3, image_size=32, progress=False)
    dataset.build(root / "catalog", root / "data", seed=3, val_fraction=0.1, test_fraction=0.2, quiet=True)
    args = ["finetune-retrieval", "--generation", str(root / "generation"), "--data", str(root / "data"),
            "--out", str(root / "checkpoint"), "--size", "tiny", "--epochs", "2", "--batch-size", "16",
            "--threads", "1", "--seed", "5"]
    assert cli.main(args) == 0
    assert cli.main(["export", "--retrieval", "--checkpoint", str(root / "checkpoint"), "--model-id",
                     "shoplens/test-retrieval", "--out", str(root / "bundle")]) == 0
    return root, model


def test_given_generation_checkpoint_when_trained_then_tower_is_copied_unchanged_and_hashes_alike(trained):
    from transformers import Blip2ForImageTextRetrieval

    root, generation = trained
    retrieval = Blip2ForImageTextRetrieval.from_pretrained(root / "checkpoint")
    for name, t in generation.vision_model.state_dict().items():
        assert torch.equal(t, retrieval.vision_model.state_dict()[name]), name
    manifest = json.loads((root / "bundle" / "manifest.json").read_text())
    assert manifest["architecture"] == "blip2-retrieval"
    assert manifest["model_id"] == "shoplens/test-retrieval"
    assert manifest["retrieval"]["vision_tower_sha256"] == fr.vision_tower_sha256(generation.vision_model)
    report = json.loads((root / "checkpoint" / "report.json").read_text())
    assert len(report["epochs"]) == 2 and report["vision_tower_sha256"] == manifest["retrieval"]["vision_tower_sha256"]


def test_given_trained_bundle_when_evaluated_then_report_covers_held_out_products(trained, tmp_path):
    root, _ = trained
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate-retrieval", "--bundle", str(root / "bundle"), "--data", str(root / "data"),
                     "--report", str(out)]) == 0
    report = json.loads(out.read_text())
    test_ids = {p[0] for p in fr.load_products(root / "data", ("test",))["test"]}
    assert report["products"] == len(test_ids) == 12
    assert {h["productId"] for e in report["examples"] for h in e["top5"]} <= test_ids
    assert 0 <= report["text_to_product"]["all"]["recall@1"] <= 1
    assert out.with_suffix(".md").read_text().startswith("# Retrieval evaluation")


def test_given_same_seed_when_trained_twice_then_same_weights(trained, tmp_path):
    from transformers import Blip2ForImageTextRetrieval

    root, _ = trained
    args = ["finetune-retrieval", "--generation", str(root / "generation"), "--data", str(root / "data"),
            "--out", str(tmp_path / "again"), "--size", "tiny", "--epochs", "2", "--batch-size", "16",
            "--threads", "1", "--seed", "5"]
    assert cli.main(args) == 0
    a = Blip2ForImageTextRetrieval.from_pretrained(root / "checkpoint").state_dict()
    b = Blip2ForImageTextRetrieval.from_pretrained(tmp_path / "again").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_given_directory_without_checkpoint_when_training_then_one_line_error(tmp_path, capsys):
    rc = cli.main(["finetune-retrieval", "--generation", str(tmp_path), "--data", str(tmp_path),
                   "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "no config.json" in capsys.readouterr().err
