"""A reference runner for `blip2-t5` bundles on Python ONNX Runtime: greedy and beam search over the
encoder and the decoder step, written against the graphs and the manifest only, the way the Java
engine must (docs/model-bundle.md, "BLIP-2 Flan-T5 bundles").

Run on the tiny-t5 bundle it reproduces Hugging Face's `generate()` token for token
(tests/test_parity_t5.py). The beam loop is runtime.beam_search, shared with OPT: only the model
steps differ.
"""

from pathlib import Path

import numpy as np

from shoplens_export import bundle, runtime


class T5BundleRunner:
    def __init__(self, bundle_dir, providers=("CPUExecutionProvider",)):
        import onnxruntime as ort

        self.dir = Path(bundle_dir)
        self.manifest = bundle.load_manifest(self.dir)
        if self.manifest["architecture"] != "blip2-t5":
            raise ValueError(f"{self.dir}: architecture {self.manifest['architecture']}, expected blip2-t5")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3

        def session(name):
            return ort.InferenceSession(str(self.dir / name), opts, providers=list(providers))

        self.vision, self.embed, self.encoder, self.decoder = (
            session(n) for n in ("vision.onnx", "embed.onnx", "encoder.onnx", "decoder.onnx"))
        text = self.manifest["text"]
        self.num_layers, self.num_heads, self.head_dim = text["num_layers"], text["num_heads"], text["head_dim"]
        tokens = self.manifest["tokens"]
        self.image_token_id, self.pad_id = tokens["image_token_id"], tokens["pad_token_id"]
        self.start_id = tokens["decoder_start_token_id"]
        self.stop_ids = set(tokens["stop_token_ids"])

    # -- graphs --------------------------------------------------------------------------------

    def encode(self, input_ids, attention_mask, pixel_values):
        """Encoder inputs as BLIP-2 builds them (the prompt's embeddings with the query embeddings
        at the <image> ids, in row-major order: masked_scatter), through encoder.onnx. Returns the
        cross-attention KV, [k0, v0, k1, v1, ...] over the decoder layers."""
        query = self.vision.run(["query_embeds"], {"pixel_values": pixel_values.astype(np.float32)})[0]
        embeds = self.embed.run(None, {"input_ids": input_ids.astype(np.int64)})[0]
        image = input_ids == self.image_token_id
        if image.sum() != query.shape[0] * query.shape[1]:
            raise ValueError(f"{image.sum()} image tokens for {query.shape[:2]} query embeddings")
        embeds[image] = query.reshape(-1, query.shape[-1])
        out = self.encoder.run(None, {"inputs_embeds": embeds, "attention_mask": attention_mask.astype(np.int64)})
        return out[1:]

    def step(self, tokens, decoder_mask, encoder_mask, self_past, cross):
        """One decoder step for `tokens` [B,1]; returns (logits [B,V], present self KV)."""
        feed = {"inputs_embeds": self.embed.run(None, {"input_ids": tokens.astype(np.int64)})[0],
                "attention_mask": decoder_mask.astype(np.int64), "encoder_attention_mask": encoder_mask.astype(np.int64)}
        for i in range(self.num_layers):
            feed[f"past_key_values.{i}.decoder.key"] = self_past[2 * i]
            feed[f"past_key_values.{i}.decoder.value"] = self_past[2 * i + 1]
            feed[f"past_key_values.{i}.encoder.key"] = cross[2 * i]
            feed[f"past_key_values.{i}.encoder.value"] = cross[2 * i + 1]
        out = self.decoder.run(None, feed)
        return out[0][:, -1, :].astype(np.float32), out[1:]

    def empty_past(self, batch):
        return [np.zeros((batch, self.num_heads, 0, self.head_dim), np.float32) for _ in range(2 * self.num_layers)]

    def first_step(self, input_ids, attention_mask, pixel_values):
        """Encoder pass and the decoder's first step from decoder_start_token_id; returns
        (logits [B,V], self KV, cross KV, decoder mask)."""
        cross = self.encode(input_ids, attention_mask, pixel_values)
        batch = input_ids.shape[0]
        start = np.full((batch, 1), self.start_id, np.int64)
        decoder_mask = np.ones((batch, 1), np.int64)
        logits, past = self.step(start, decoder_mask, attention_mask, self.empty_past(batch), cross)
        return logits, past, cross, decoder_mask

    # -- decoding ------------------------------------------------------------------------------

    def greedy(self, input_ids, attention_mask, pixel_values, max_new_tokens):
        """Returns the decoder sequences [B, 1 + generated] (decoder_start_token_id first), as
        Hugging Face's generate() returns them; finished rows continue with pad tokens."""
        logits, past, cross, decoder_mask = self.first_step(input_ids, attention_mask, pixel_values)
        batch = input_ids.shape[0]
        sequences = np.full((batch, 1), self.start_id, np.int64)
        unfinished = np.ones(batch, bool)
        for step in range(max_new_tokens):
            next_tokens = np.where(unfinished, np.argmax(logits, axis=-1), self.pad_id)
            sequences = np.concatenate([sequences, next_tokens[:, None]], axis=1)
            unfinished &= ~np.isin(next_tokens, list(self.stop_ids))
            if not unfinished.any() or step == max_new_tokens - 1:
                break
            decoder_mask = np.concatenate([decoder_mask, np.ones((batch, 1), np.int64)], axis=1)
            logits, past = self.step(next_tokens[:, None], decoder_mask, attention_mask, past, cross)
        return sequences

    def beam_search(self, input_ids, attention_mask, pixel_values, max_new_tokens, num_beams,
                    num_return_sequences=1, length_penalty=1.0, early_stopping=False):
        """Returns (decoder sequences [B*num_return, T], scores [B*num_return]) like transformers 5.x.
        The encoder runs once per row; its cross KV is repeated for the beams and, being the same for
        every beam of a row, never needs reordering."""
        logits, past, cross, decoder_mask = self.first_step(input_ids, attention_mask, pixel_values)
        batch = input_ids.shape[0]
        state = {"past": [np.repeat(p, num_beams, axis=0) for p in past],
                 "mask": np.repeat(decoder_mask, num_beams, axis=0)}
        cross = [np.repeat(c, num_beams, axis=0) for c in cross]
        encoder_mask = np.repeat(attention_mask, num_beams, axis=0)

        def advance(reorder, last_tokens):
            state["past"] = [p[reorder] for p in state["past"]]
            state["mask"] = np.concatenate([state["mask"], np.ones((state["mask"].shape[0], 1), np.int64)], axis=1)
            step_logits, state["past"] = self.step(last_tokens, state["mask"], encoder_mask, state["past"], cross)
            return step_logits

        start = np.full((batch, 1), self.start_id, np.int64)
        # Hugging Face pads finished hypotheses with `pad_token_id or eos_token_id[0]`: T5's pad id 0
        # is falsy, so they are padded with </s>.
        fill = self.pad_id or self.manifest["tokens"]["eos_token_id"]
        return runtime.beam_search(np.repeat(logits, num_beams, axis=0), start, advance, self.stop_ids, fill,
                                   max_new_tokens, num_beams, num_return_sequences, length_penalty, early_stopping)
