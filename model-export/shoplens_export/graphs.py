"""Small `nn.Module`s with explicit tensor inputs around the Hugging Face BLIP-2 OPT modules.

Each wrapper is what one ONNX graph computes (docs/model-bundle.md). They reuse the Hugging Face
submodules and weights; only the decoder step is spelled out, because Hugging Face's cache objects
and mask helpers do not export to a clean graph with named past/present tensors.
"""

import torch
from torch import nn


class VisionGraph(nn.Module):
    """pixel_values -> query_embeds: vision tower, Q-Former, language projection.

    Mirrors `Blip2ForConditionalGeneration.generate`: the Q-Former sees every image patch (mask of
    ones) and runs in float32 even in a float16 model (Hugging Face keeps it in fp32).
    """

    def __init__(self, model):
        super().__init__()
        self.vision_model = model.vision_model
        self.qformer = model.qformer
        self.query_tokens = model.query_tokens
        self.language_projection = model.language_projection

    def forward(self, pixel_values):
        return self.from_image_embeds(self.vision_model(pixel_values, return_dict=True).last_hidden_state)

    def from_image_embeds(self, image_embeds):
        """The Q-Former and projection alone, on the vision tower's output (fine-tuning with a frozen
        tower encodes each image once and trains from these)."""
        image_attention_mask = torch.ones(image_embeds.shape[:-1], dtype=torch.long, device=image_embeds.device)
        query_tokens = self.query_tokens.expand(image_embeds.shape[0], -1, -1)
        query_output = self.qformer(
            query_embeds=query_tokens.to(self.query_tokens.dtype),
            encoder_hidden_states=image_embeds.to(self.query_tokens.dtype),
            encoder_attention_mask=image_attention_mask,
            return_dict=True,
        ).last_hidden_state
        return self.language_projection(query_output.to(self.language_projection.weight.dtype))


class VisionWithTowerGraph(VisionGraph):
    """pixel_values -> query_embeds and image_embeds: what `vision.onnx` computes.

    The second output is the vision tower's last hidden state [B, P, Hv], which the graph computes
    anyway. A retrieval bundle with the same tower turns it into its image features
    (`image_features.onnx`) without a tower pass of its own (docs/model-bundle.md). query_embeds
    stays the first output, so readers that take output 0 are unaffected.
    """

    def forward(self, pixel_values):
        image_embeds = self.vision_model(pixel_values, return_dict=True).last_hidden_state
        return self.from_image_embeds(image_embeds), image_embeds


class EmbedGraph(nn.Module):
    """input_ids -> inputs_embeds: the language model's token embedding table."""

    def __init__(self, model):
        super().__init__()
        self.embed_tokens = model.get_input_embeddings()

    def forward(self, input_ids):
        return self.embed_tokens(input_ids)


class DecoderGraph(nn.Module):
    """One OPT decoder step with an explicit KV cache.

    Inputs: inputs_embeds [B,S,E], attention_mask [B,P+S] (1 = attend), position_ids [B,S] (OPT's,
    before its offset of 2), then past key and value [B,N,P,D] per layer. Outputs: logits [B,1,V]
    of the last position only (bundle format 2), then present key and value [B,N,P+S,D] per layer.
    Same arithmetic as OPTDecoder with `eager_attention_forward` (scaled query, fp32 softmax).

    Only the last position's logits: generation reads nothing else (prompts are left-padded, so
    every row's last position is real), and Hugging Face's `generate()` likewise projects only the
    last position (`logits_to_keep=1`). The vocabulary projection of every prompt position was most
    of a long prefill's cost on a large vocabulary.
    """

    def __init__(self, model):
        super().__init__()
        lm = model.language_model
        self.decoder = lm.model.decoder
        self.lm_head = lm.lm_head
        cfg = lm.config
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.offset = self.decoder.embed_positions.offset

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        d = self.decoder
        batch, new_len = inputs_embeds.shape[0], inputs_embeds.shape[1]
        total_len = attention_mask.shape[1]
        past_len = total_len - new_len

        x = inputs_embeds
        if d.project_in is not None:
            x = d.project_in(x)
        hidden = x + nn.functional.embedding(position_ids + self.offset, d.embed_positions.weight)

        # Query i sits at absolute column past_len + i; it sees unmasked columns up to itself.
        # masked_fill (not an additive -inf) keeps a fully masked row finite in fp16 too.
        query_cols = torch.arange(new_len, device=x.device) + past_len
        key_cols = torch.arange(total_len, device=x.device)
        causal = key_cols[None, :] <= query_cols[:, None]
        allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
        min_value = torch.finfo(torch.float32).min

        presents = []
        for i, layer in enumerate(d.layers):
            attn = layer.self_attn
            residual = hidden
            h = layer.self_attn_layer_norm(hidden) if layer.do_layer_norm_before else hidden
            q = (attn.q_proj(h) * attn.scaling).view(batch, new_len, self.num_heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(batch, new_len, self.num_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(h).view(batch, new_len, self.num_heads, self.head_dim).transpose(1, 2)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            scores = torch.matmul(q, k.transpose(-1, -2)).to(torch.float32)
            scores = scores.masked_fill(~allowed, min_value)
            weights = torch.softmax(scores, dim=-1).to(q.dtype)
            out = torch.matmul(weights, v).transpose(1, 2).reshape(batch, new_len, -1)
            hidden = residual + attn.out_proj(out)
            if not layer.do_layer_norm_before:
                hidden = layer.self_attn_layer_norm(hidden)

            residual = hidden
            h = layer.final_layer_norm(hidden) if layer.do_layer_norm_before else hidden
            h = layer.fc2(layer.activation_fn(layer.fc1(h)))
            hidden = residual + h
            if not layer.do_layer_norm_before:
                hidden = layer.final_layer_norm(hidden)

        hidden = hidden[:, -1:, :]
        if d.final_layer_norm is not None:
            hidden = d.final_layer_norm(hidden)
        if d.project_out is not None:
            hidden = d.project_out(hidden)
        return (self.lm_head(hidden), *presents)


def decoder_io_names(num_layers):
    inputs = ["inputs_embeds", "attention_mask", "position_ids"]
    outputs = ["logits"]
    for i in range(num_layers):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs
