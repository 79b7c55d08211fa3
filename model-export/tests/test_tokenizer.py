"""The offline test tokenizers: OPT's special-token layout, <image>, and a bench vocabulary of 50272."""

from shoplens_export import tokenizer


def test_tiny_tokenizer_should_prepend_eos_like_opt_and_end_with_image_token():
    tok = tokenizer.train(600)

    ids = tok.encode("Question: what color is the dress? Answer:").ids

    assert ids[0] == 2 and 2 not in ids[1:]
    assert [tok.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<image>")] == [0, 1, 2, 3, 599]
    assert tok.decode(ids, skip_special_tokens=True) == "Question: what color is the dress? Answer:"


def test_bench_tokenizer_should_decode_every_row_of_opt_vocabulary():
    tok = tokenizer.train(50272)

    assert tok.get_vocab_size() == 50272 and tok.token_to_id("<image>") == 50271
    assert len({tok.id_to_token(i) for i in range(50272)}) == 50272  # dense: every id has a token
    assert tok.encode("a red cotton dress").ids[0] == 2
