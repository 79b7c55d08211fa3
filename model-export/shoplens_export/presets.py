"""Built-in BLIP-2 OPT models with random weights: `tiny` (test fixtures), `bench` (benchmarks) and
`fashion` (the starting point of the trained demo model, `finetune --train all`).

Both are built from a config and a seed, with nothing downloaded, so that the fixtures can be
regenerated anywhere and Hugging Face's own `generate()` can be run on exactly the exported model.
"""

from dataclasses import dataclass

import torch

from shoplens_export import tokenizer as tokenizers_

PRESETS = ("tiny", "bench", "fashion")
DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Preset:
    name: str
    image_size: int
    vision: dict
    qformer: dict
    text: dict
    num_query_tokens: int
    vocab_size: int  # tokenizer and embedding rows, <image> (the last id) included
    # Re-initialisation after Hugging Face's own: random (not zero) query tokens so that the query
    # embeddings differ from each other, and a wider language projection so the image matters.
    query_token_std: float = 1.0
    projection_std: float = 0.02
    # The vision tower's position embeddings (Hugging Face: initializer_range, 0.02). Trained from
    # scratch, 0.02 leaves the patches' positions almost invisible next to their pixels, and the tower
    # learns colour and texture but not shape: the demo model's kind stayed at chance (measured).
    vision_position_std: float = None
    # Tokens that end generation besides </s>. blip2-opt-2.7b stops on "\n" (50118), not on </s>;
    # the tiny model likewise stops on a token it produces mid-sequence, so that stopping, finished
    # rows in a batch and length-penalised beams are all exercised by the reference cases.
    extra_stop_tokens: tuple = ()
    # "corpus": a BPE trained on corpus.py padded to vocab_size; "gpt2": GPT-2's real byte-level BPE
    # with OPT's special tokens (tokenizer.gpt2_bpe), as blip2-opt-2.7b's tokenizer.
    tokenizer: str = "corpus"


TINY = Preset(
    name="tiny",
    image_size=30,
    # In the spirit of transformers' tests/models/blip_2 (Blip2VisionModelTester & co), except the
    # vision initializer range: the tests' 1e-10 makes every image look the same to the Q-Former.
    vision=dict(patch_size=2, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                initializer_range=0.02, attention_dropout=0.1),
    # Wider initialisations than Hugging Face's defaults for the Q-Former (sharper cross-attention,
    # so images differ) and the decoder (larger logit gaps, so greedy choices are clear).
    qformer=dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                 max_position_embeddings=512, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 initializer_range=0.2),
    text=dict(hidden_size=16, ffn_dim=32, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=512,
              dropout=0.1, init_std=0.5),
    num_query_tokens=10,
    vocab_size=600,
    projection_std=1.0,
    extra_stop_tokens=("rown",),
)

BENCH = Preset(
    name="bench",
    image_size=224,
    # ViT-B/16 vision tower, BERT-base-sized Q-Former with 32 queries, OPT-125m decoder.
    vision=dict(patch_size=16, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                num_attention_heads=12, initializer_range=0.02),
    qformer=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12),
    text=dict(hidden_size=768, ffn_dim=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=2048),
    num_query_tokens=32,
    vocab_size=50272,
)


# The demo model, trained from scratch on the synthetic catalog (scripts/train-demo-model). Sized for
# a float32 bundle under 25 MB: embed.onnx and decoder.onnx each hold a 50261 x 40 table (8 MB),
# so the language model is narrow; the vision side does the real work. It sees the catalog's 96 px
# photos whole, in 12 px patches (8 x 8 of them): at 64 px in 8 px patches (the first demo models)
# the resize blurred the 2-3 px lines of stripes and checks, and the warm-up's pattern head stopped
# near 80 % (striped and checked confused); at 96 / 12 it passed 90 % by warm-up epoch 13, with
# the same number of tokens and so about the same cost.
# Trained from these random weights, Hugging Face's Q-Former initialisation (0.02, near-equal query
# tokens) leaves the Q-Former's output the same for every image for thousands of steps (its post-LN
# layers pass the queries through and the cross-attention stays negligible): the loss sits on the
# answers' prior. A wider Q-Former initialisation and unit-variance query tokens make the query
# outputs depend on the image within ~300 steps (measured on the demo dataset).
FASHION = Preset(
    name="fashion",
    image_size=96,
    vision=dict(patch_size=12, hidden_size=128, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
                initializer_range=0.02),
    qformer=dict(vocab_size=99, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                 max_position_embeddings=64, cross_attention_frequency=1, encoder_hidden_size=128,
                 initializer_range=0.1),
    text=dict(hidden_size=40, ffn_dim=160, num_hidden_layers=3, num_attention_heads=4, max_position_embeddings=128,
              dropout=0.0, init_std=0.02),
    num_query_tokens=8,
    vocab_size=50261,
    query_token_std=1.0,
    vision_position_std=0.5,
    tokenizer="gpt2",
)


def get(name):
    return {"tiny": TINY, "bench": BENCH, "fashion": FASHION}[name]


def build(preset, seed=DEFAULT_SEED):
    """Returns `(model, processor)`: a randomly initialised `Blip2ForConditionalGeneration` in eval
    mode and the matching `Blip2Processor`, both fully determined by `preset` and `seed`."""
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    tok = tokenizers_.gpt2_bpe() if preset.tokenizer == "gpt2" else tokenizers_.train(preset.vocab_size)
    if tok.get_vocab_size() != preset.vocab_size:
        raise ValueError(f"{preset.name}: tokenizer has {tok.get_vocab_size()} ids, preset says {preset.vocab_size}")
    image_token_id = tok.token_to_id(tokenizers_.IMAGE_TOKEN)
    stop_ids = [tokenizers_.EOS] + [tok.token_to_id(t) for t in preset.extra_stop_tokens]
    # The stop ids go into the text config: Blip2ForConditionalGeneration.generate delegates to the
    # language model's generate(), whose generation config is derived from the text config (this
    # is also how blip2-opt-2.7b stops on 50118), so a saved and reloaded checkpoint behaves the same.
    config = Blip2Config(
        vision_config=dict(image_size=preset.image_size, **preset.vision),
        qformer_config=dict(preset.qformer),
        text_config=dict(model_type="opt", vocab_size=preset.vocab_size, pad_token_id=tokenizers_.PAD,
                         bos_token_id=tokenizers_.EOS, eos_token_id=stop_ids if len(stop_ids) > 1 else stop_ids[0],
                         **preset.text),
        num_query_tokens=preset.num_query_tokens,
        image_token_index=image_token_id,
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config)
    with torch.no_grad():
        model.query_tokens.normal_(0.0, preset.query_token_std)
        torch.nn.init.normal_(model.language_projection.weight, 0.0, preset.projection_std)
        if preset.vision_position_std is not None:
            model.vision_model.embeddings.position_embedding.normal_(0.0, preset.vision_position_std)
    model.eval()
    for gc in (model.generation_config, model.language_model.generation_config):
        gc.pad_token_id = tokenizers_.PAD
        gc.bos_token_id = tokenizers_.EOS
        gc.eos_token_id = stop_ids if len(stop_ids) > 1 else stop_ids[0]

    image_processor = BlipImageProcessorPil(size={"height": preset.image_size, "width": preset.image_size})
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizers_.hf_tokenizer(tok),
                               num_query_tokens=preset.num_query_tokens)
    return model, processor


def stop_token_ids(model):
    """The ids Hugging Face's generate() stops on for this model."""
    eos = model.language_model.generation_config.eos_token_id
    if eos is None:
        eos = model.config.text_config.eos_token_id
    return [eos] if isinstance(eos, int) else list(eos)


def source(preset, seed=DEFAULT_SEED):
    """Returns everything `export.export_model` needs for a preset: model, processor, tokenizer
    JSON and the manifest fields that do not come from the model."""
    from shoplens_export import sources

    model, processor = build(preset, seed)
    info = sources.describe(model, processor, model_id=f"shoplens/{preset.name}-blip2-opt",
                            name=f"{preset.name}-blip2-opt-s{seed}", stop_token_ids=stop_token_ids(model))
    info.update(preset=preset.name, seed=seed)
    return model, processor, processor.tokenizer.backend_tokenizer.to_str(), info
