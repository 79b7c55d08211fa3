"""The `tiny-t5` preset: a randomly initialised BLIP-2 with a tiny Flan-T5-style language model.

Built from a config and a seed, with nothing downloaded, like the OPT `tiny` preset (presets.py),
so that the fixtures can be regenerated anywhere and Hugging Face's own `generate()` can be run on
exactly the exported model. Vision tower and Q-Former are the OPT tiny's; the language model is a
T5 v1.1 / Flan-T5 layout (gated-GELU feed-forward, untied output head, no output scaling).
"""

import torch

from shoplens_export import presets
from shoplens_export import tokenizer_t5

NAME = "tiny-t5"
VOCAB_SIZE = 181  # the corpus Unigram's 180 pieces + <image> (tokenizer_t5)
NUM_QUERY_TOKENS = 10
TEXT = dict(
    d_model=16, d_kv=4, num_heads=4, d_ff=32, num_layers=2, num_decoder_layers=2,
    feed_forward_proj="gated-gelu", tie_word_embeddings=False,
    # Few buckets and a short maximum distance so that the fixture prompts (10 query tokens + text)
    # reach T5's logarithmic buckets, not only the exact ones.
    relative_attention_num_buckets=8, relative_attention_max_distance=20,
    dropout_rate=0.1,
    # Wider than Hugging Face's default (1.0) so that greedy choices have clear logit gaps.
    initializer_factor=2.0,
)
# Besides </s>: a token the random model produces mid-sequence, so that stopping, finished rows in a
# batch and length-penalised beams are exercised (the OPT tiny model does the same).
EXTRA_STOP_TOKENS = ("rou",)


def build(seed=presets.DEFAULT_SEED):
    """Returns `(model, processor)`: a randomly initialised `Blip2ForConditionalGeneration` with a T5
    language model in eval mode and the matching `Blip2Processor`."""
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    tiny = presets.TINY
    tok = tokenizer_t5.train()
    if tok.get_vocab_size() != VOCAB_SIZE:
        raise ValueError(f"{NAME}: tokenizer has {tok.get_vocab_size()} ids, preset says {VOCAB_SIZE}")
    image_token_id = tok.token_to_id(tokenizer_t5.IMAGE_TOKEN)
    stop_ids = [tokenizer_t5.EOS] + [tok.token_to_id(t) for t in EXTRA_STOP_TOKENS]
    eos = stop_ids if len(stop_ids) > 1 else stop_ids[0]
    config = Blip2Config(
        vision_config=dict(image_size=tiny.image_size, **tiny.vision),
        qformer_config=dict(tiny.qformer),
        text_config=dict(model_type="t5", vocab_size=VOCAB_SIZE, pad_token_id=tokenizer_t5.PAD, eos_token_id=eos,
                         decoder_start_token_id=tokenizer_t5.PAD, **TEXT),
        num_query_tokens=NUM_QUERY_TOKENS,
        image_token_index=image_token_id,
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config)
    with torch.no_grad():
        model.query_tokens.normal_(0.0, tiny.query_token_std)
        torch.nn.init.normal_(model.language_projection.weight, 0.0, tiny.projection_std)
    model.eval()
    for gc in (model.generation_config, model.language_model.generation_config):
        gc.pad_token_id = tokenizer_t5.PAD
        gc.eos_token_id = eos
        gc.decoder_start_token_id = tokenizer_t5.PAD

    image_processor = BlipImageProcessorPil(size={"height": tiny.image_size, "width": tiny.image_size})
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizer_t5.hf_tokenizer(tok),
                               num_query_tokens=NUM_QUERY_TOKENS)
    return model, processor


def source(seed=presets.DEFAULT_SEED):
    """Everything `export.export_model` needs: model, processor, tokenizer JSON, manifest fields."""
    from shoplens_export import sources

    model, processor = build(seed)
    info = sources.describe(model, processor, model_id="shoplens/tiny-blip2-t5",
                            name=f"tiny-blip2-t5-s{seed}", stop_token_ids=presets.stop_token_ids(model))
    info.update(preset=NAME, seed=seed)
    return model, processor, processor.tokenizer.backend_tokenizer.to_str(), info
