"""The FLOP counter behind `scripts/bench-engine --roofline`: exact on a single product and equal to
the closed-form count of an OPT decoder step on the committed tiny bundle."""

import onnx
import pytest

from conftest import COMMITTED_BUNDLE
from shoplens_export import flops
from shoplens_export.errors import ExportError


def test_should_count_a_square_matrix_product_as_two_n_cubed(tmp_path):
    path = tmp_path / "matmul.onnx"
    assert flops.matmul_graph(path, n=64) == 2 * 64 ** 3 / 1e9
    gflop, uncounted = flops.count(onnx.load(str(path)), {})
    assert uncounted == []
    assert gflop == pytest.approx(2 * 64 ** 3 / 1e9, rel=0, abs=1e-12)


@pytest.mark.parametrize("batch,seq,past", [(2, 1, 5), (3, 4, 0)])
def test_should_count_an_opt_decoder_pass_as_the_closed_form(batch, seq, past):
    # OPT, per layer: q, k, v and out projections (4 x H x H), scores and weighted values
    # (2 x S x T x H), the MLP (2 x H x F); then the vocabulary projection at each row's last
    # position only (bundle format 2). 2 FLOP per multiply-add.
    hidden, ffn, layers, vocab = 16, 32, 2, 600  # presets.TINY
    total = past + seq
    per_layer = batch * seq * (4 * hidden * hidden + 2 * total * hidden + 2 * hidden * ffn)
    expected = 2 * (layers * per_layer + batch * hidden * vocab)
    model = onnx.load(str(COMMITTED_BUNDLE / "decoder.onnx"))
    gflop, uncounted = flops.count(model, {"batch": batch, "sequence": seq, "past_sequence": past,
                                           "total_sequence": total})
    assert uncounted == []
    assert gflop * 1e9 == pytest.approx(expected, rel=1e-9)


def test_should_refuse_a_shape_without_a_value_for_each_symbolic_dimension():
    model = onnx.load(str(COMMITTED_BUNDLE / "decoder.onnx"))
    with pytest.raises(ExportError, match="past_sequence"):
        flops.count(model, {"batch": 1, "sequence": 1, "total_sequence": 2})
