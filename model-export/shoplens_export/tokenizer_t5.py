"""An offline SentencePiece-style (Unigram) tokenizer with T5's special tokens, for the `tiny-t5` preset.

T5 and Flan-T5 use a SentencePiece Unigram model: `<pad>`=0, `</s>`=1, `<unk>`=2, words marked with
"\u2581" (Metaspace, a space prepended to every text), `</s>` appended to every encoded text and no
bos. The tiny tokenizer has exactly that layout, trained with the `tokenizers` library's Unigram
trainer on the built-in corpus (corpus.py) like the OPT test tokenizer, then `<image>` added as the
last id, as `Blip2Processor` expects. Nothing is downloaded.
"""

import json

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from shoplens_export import corpus

SPECIALS = ["<pad>", "</s>", "<unk>"]
IMAGE_TOKEN = "<image>"
PAD, EOS, UNK = 0, 1, 2  # as in t5-* and google/flan-t5-*
# The Unigram trainer stops well below this on the small corpus (it keeps 180 pieces); asking for
# more changes nothing, so the size is a property of the corpus, checked by the preset.
TRAINER_VOCAB_SIZE = 200
SCORE_DIGITS = 2  # the trainer scores its rarest pieces (ties) in hash order, 1e-4 apart


def train():
    """Trains the Unigram model on the built-in corpus; returns a `tokenizers.Tokenizer` whose
    `to_str()` is the same on every run (scores rounded to `SCORE_DIGITS` decimals)."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=TRAINER_VOCAB_SIZE, special_tokens=SPECIALS, unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(corpus.lines(), trainer=trainer)
    state = json.loads(tok.to_str())
    # Rounded, pieces of equal score are sorted by text (specials stay first, at their ids).
    vocab = [[piece, round(score, SCORE_DIGITS)] for piece, score in state["model"]["vocab"]]
    head, rest = vocab[:len(SPECIALS)], vocab[len(SPECIALS):]
    state["model"]["vocab"] = head + sorted(rest, key=lambda e: (-e[1], e[0]))
    tok = Tokenizer.from_str(json.dumps(state))
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in SPECIALS])
    tok.add_special_tokens([AddedToken(IMAGE_TOKEN, normalized=False, special=True)])
    # T5 appends </s> to every text (no bos); pairs are not used by BLIP-2.
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", EOS)]
    )
    return tok


def hf_tokenizer(tok):
    """Wraps the tokenizer as the Hugging Face tokenizer `Blip2Processor` uses: right padding, as
    T5's tokenizer and the BLIP-2 Flan-T5 checkpoints configure (the encoder is bidirectional and
    masks the pads; nothing needs the last column to be real)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
