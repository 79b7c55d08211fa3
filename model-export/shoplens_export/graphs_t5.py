"""Small `nn.Module`s with explicit tensor inputs around a Hugging Face BLIP-2 T5 (Flan-T5) model.

The vision and embed graphs are the OPT ones (`graphs.VisionGraph`, `graphs.EmbedGraph`: for T5 the
embedding table is the shared one the encoder and decoder both use). The encoder and the decoder
step are spelled out here with the same arithmetic as `T5Stack` with eager attention, because
Hugging Face's cache objects and mask helpers do not export to a graph with named past/present
tensors, and because optimum's T5 encoder takes token ids where BLIP-2 needs embeddings.

The cross-attention keys and values depend only on the encoder output, so they are computed once
per request: the encoder graph returns them (`present.{i}.encoder.key/value`) and every decoder
step takes them back as inputs (`past_key_values.{i}.encoder.key/value`), the names optimum uses.
Computing them in the encoder graph rather than in a separate "first decoder step" graph keeps one
decoder graph for every step (no second copy of the decoder weights) and lets a row join a running
batch with nothing but its own encoder pass. docs/model-bundle.md lists every name and shape.
"""

import torch
from torch import nn


def _heads(x, batch, num_heads, head_dim):
    return x.view(batch, -1, num_heads, head_dim).transpose(1, 2)


def _relative_bias(attn, query_len, key_len, past_len, bidirectional, device):
    """T5's binned relative position bias [1, N, query_len, key_len] for queries at columns
    past_len..past_len+query_len-1 (T5Attention.compute_bias)."""
    context = torch.arange(query_len, dtype=torch.long, device=device)[:, None] + past_len
    memory = torch.arange(key_len, dtype=torch.long, device=device)[None, :]
    buckets = attn._relative_position_bucket(memory - context, bidirectional=bidirectional,
                                             num_buckets=attn.relative_attention_num_buckets,
                                             max_distance=attn.relative_attention_max_distance)
    return attn.relative_attention_bias(buckets).permute([2, 0, 1]).unsqueeze(0)


def _attend(q, k, v, bias, allowed):
    """Unscaled dot product (T5 folds the scale into its initialisation), bias, mask, softmax in
    float32. masked_fill with the float32 minimum, like Hugging Face's additive eager mask."""
    scores = torch.matmul(q, k.transpose(-1, -2)).to(torch.float32)
    if bias is not None:
        scores = scores + bias.to(torch.float32)
    scores = scores.masked_fill(~allowed, torch.finfo(torch.float32).min)
    weights = torch.softmax(scores, dim=-1).to(q.dtype)
    out = torch.matmul(weights, v)
    return out.transpose(1, 2).reshape(q.shape[0], q.shape[2], -1)


class EncoderGraph(nn.Module):
    """inputs_embeds [B,S,E] + attention_mask [B,S] -> encoder_hidden_states [B,S,E], then the
    cross-attention key and value [B,N,S,D] of every decoder layer.

    `inputs_embeds` are the query embeddings and the prompt's token embeddings as BLIP-2 lays them
    out (image tokens first; docs/model-bundle.md). The encoder is bidirectional: every position
    sees every unmasked position, so nothing here can be cached per image prefix.
    """

    def __init__(self, model):
        super().__init__()
        lm = model.language_model
        self.encoder = lm.get_encoder()
        self.decoder_blocks = lm.get_decoder().block
        cfg = lm.config
        self.num_heads, self.head_dim = cfg.num_heads, cfg.d_kv

    def forward(self, inputs_embeds, attention_mask):
        batch, length = inputs_embeds.shape[0], inputs_embeds.shape[1]
        allowed = (attention_mask[:, None, None, :] > 0).expand(batch, 1, length, length)
        first = self.encoder.block[0].layer[0].SelfAttention
        bias = _relative_bias(first, length, length, 0, True, inputs_embeds.device)
        hidden = inputs_embeds
        for block in self.encoder.block:
            self_attn = block.layer[0]
            h = self_attn.layer_norm(hidden)
            a = self_attn.SelfAttention
            q, k, v = (_heads(p(h), batch, self.num_heads, self.head_dim) for p in (a.q, a.k, a.v))
            hidden = hidden + a.o(_attend(q, k, v, bias, allowed))
            hidden = block.layer[-1](hidden)
        hidden = self.encoder.final_layer_norm(hidden)
        cross = []
        for block in self.decoder_blocks:
            a = block.layer[1].EncDecAttention
            cross += [_heads(a.k(hidden), batch, self.num_heads, self.head_dim),
                      _heads(a.v(hidden), batch, self.num_heads, self.head_dim)]
        return (hidden, *cross)


class DecoderGraph(nn.Module):
    """One T5 decoder step with an explicit self-attention KV cache and the cross-attention KV.

    Inputs: inputs_embeds [B,S,E] (decoder tokens through embed.onnx), attention_mask [B,P+S]
    (decoder self-attention, 1 = real; Hugging Face's generate() uses all ones), encoder_attention_mask
    [B,Senc], then per layer past_key_values.{i}.decoder.key/value [B,N,P,D] and
    past_key_values.{i}.encoder.key/value [B,N,Senc,D] (from the encoder graph). Outputs: logits
    [B,1,V] of the last position only, then present.{i}.decoder.key/value [B,N,P+S,D].

    The relative position bias is computed from column indices: query i sits at column P+i. Rows of
    a batch whose decoders have different lengths stay exact when their shorter past is padded on
    the left (masked columns), since column differences then equal token distances.
    """

    def __init__(self, model):
        super().__init__()
        lm = model.language_model
        self.decoder = lm.get_decoder()
        self.lm_head = lm.lm_head
        cfg = lm.config
        self.num_heads, self.head_dim = cfg.num_heads, cfg.d_kv
        self.output_scale = cfg.d_model ** -0.5 if getattr(cfg, "scale_decoder_outputs", False) else None

    def forward(self, inputs_embeds, attention_mask, encoder_attention_mask, *past):
        batch, new_len = inputs_embeds.shape[0], inputs_embeds.shape[1]
        total_len = attention_mask.shape[1]
        past_len = total_len - new_len
        enc_len = encoder_attention_mask.shape[1]
        device = inputs_embeds.device

        query_cols = torch.arange(new_len, device=device) + past_len
        key_cols = torch.arange(total_len, device=device)
        causal = key_cols[None, :] <= query_cols[:, None]
        self_allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
        cross_allowed = (encoder_attention_mask[:, None, None, :] > 0).expand(batch, 1, new_len, enc_len)
        first = self.decoder.block[0].layer[0].SelfAttention
        bias = _relative_bias(first, new_len, total_len, past_len, False, device)

        hidden = inputs_embeds
        presents = []
        for i, block in enumerate(self.decoder.block):
            self_attn = block.layer[0]
            h = self_attn.layer_norm(hidden)
            a = self_attn.SelfAttention
            q, k, v = (_heads(p(h), batch, self.num_heads, self.head_dim) for p in (a.q, a.k, a.v))
            k = torch.cat([past[4 * i], k], dim=2)
            v = torch.cat([past[4 * i + 1], v], dim=2)
            presents += [k, v]
            hidden = hidden + a.o(_attend(q, k, v, bias, self_allowed))

            cross_attn = block.layer[1]
            h = cross_attn.layer_norm(hidden)
            c = cross_attn.EncDecAttention
            q = _heads(c.q(h), batch, self.num_heads, self.head_dim)
            # No relative bias in cross-attention (Hugging Face adds zeros).
            hidden = hidden + c.o(_attend(q, past[4 * i + 2], past[4 * i + 3], None, cross_allowed))
            hidden = block.layer[-1](hidden)

        hidden = self.decoder.final_layer_norm(hidden[:, -1:, :])
        if self.output_scale is not None:
            hidden = hidden * self.output_scale
        return (self.lm_head(hidden), *presents)


def encoder_io_names(num_decoder_layers):
    outputs = ["encoder_hidden_states"]
    for i in range(num_decoder_layers):
        outputs += [f"present.{i}.encoder.key", f"present.{i}.encoder.value"]
    return ["inputs_embeds", "attention_mask"], outputs


def decoder_io_names(num_decoder_layers):
    inputs = ["inputs_embeds", "attention_mask", "encoder_attention_mask"]
    outputs = ["logits"]
    for i in range(num_decoder_layers):
        inputs += [f"past_key_values.{i}.decoder.key", f"past_key_values.{i}.decoder.value",
                   f"past_key_values.{i}.encoder.key", f"past_key_values.{i}.encoder.value"]
        outputs += [f"present.{i}.decoder.key", f"present.{i}.decoder.value"]
    return inputs, outputs
