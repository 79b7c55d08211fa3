"""A reference runner for model bundles on Python ONNX Runtime: greedy and beam search loops with a
KV cache, written against the graphs only (plus the manifest), the way the Java engine must.

It exists to prove the bundle contract: run on the tiny bundle, it must reproduce Hugging Face's
`generate()` token for token (tests/test_parity.py). The beam search follows transformers 5.x's
vectorised `_beam_search` step by step (top 2*num_beams candidates per step, finished hypotheses
scored with `sum_logprobs / generated_len ** length_penalty`, the early-stop heuristic).
"""

from pathlib import Path

import numpy as np

from shoplens_export import bundle

NEG = -1.0e9  # what transformers uses for "impossible" beam scores


class BundleRunner:
    def __init__(self, bundle_dir, providers=("CPUExecutionProvider",)):
        import onnxruntime as ort

        self.dir = Path(bundle_dir)
        self.manifest = bundle.load_manifest(self.dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3

        def session(name):
            return ort.InferenceSession(str(self.dir / name), opts, providers=list(providers))

        self.vision, self.embed, self.decoder = (session(n) for n in ("vision.onnx", "embed.onnx", "decoder.onnx"))
        text = self.manifest["text"]
        self.num_layers, self.num_heads, self.head_dim = text["num_layers"], text["num_heads"], text["head_dim"]
        self.float_type = np.float16 if self.manifest["dtype"] == "float16" else np.float32
        tokens = self.manifest["tokens"]
        self.image_token_id, self.pad_id = tokens["image_token_id"], tokens["pad_token_id"]
        self.stop_ids = set(tokens["stop_token_ids"])

    # -- graphs --------------------------------------------------------------------------------

    def query_embeds(self, pixel_values):
        return self.vision.run(["query_embeds"], {"pixel_values": pixel_values.astype(self.float_type)})[0]

    def prompt_embeds(self, input_ids, query_embeds):
        """Embeds the prompt ids and puts the query embeddings where the <image> ids are, in order
        over the whole batch (Hugging Face's masked_scatter)."""
        embeds = self.embed.run(None, {"input_ids": input_ids.astype(np.int64)})[0]
        mask = input_ids == self.image_token_id
        if mask.sum() != query_embeds.shape[0] * query_embeds.shape[1]:
            raise ValueError(f"{mask.sum()} image tokens for {query_embeds.shape[:2]} query embeddings")
        embeds[mask] = query_embeds.reshape(-1, query_embeds.shape[-1])
        return embeds

    def empty_past(self, batch):
        shape = (batch, self.num_heads, 0, self.head_dim)
        return [np.zeros(shape, self.float_type) for _ in range(2 * self.num_layers)]

    def step(self, embeds, attention_mask, position_ids, past):
        feed = {"inputs_embeds": embeds.astype(self.float_type), "attention_mask": attention_mask.astype(np.int64),
                "position_ids": position_ids.astype(np.int64)}
        for i in range(self.num_layers):
            feed[f"past_key_values.{i}.key"] = past[2 * i]
            feed[f"past_key_values.{i}.value"] = past[2 * i + 1]
        out = self.decoder.run(None, feed)
        return out[0].astype(np.float32), out[1:]

    @staticmethod
    def prefill_positions(attention_mask):
        # What transformers' generate() passes: cumsum - 1, pads set to 0 (masked anyway).
        pos = np.cumsum(attention_mask, axis=1) - 1
        return np.where(attention_mask == 0, 0, pos)

    def prefill(self, input_ids, attention_mask, pixel_values):
        """Runs the first step (past length 0); returns (last logits [B,V], present, positions).

        The decoder returns the last position's logits only ([B,1,V], bundle format 2)."""
        embeds = self.prompt_embeds(input_ids, self.query_embeds(pixel_values))
        positions = self.prefill_positions(attention_mask)
        logits, present = self.step(embeds, attention_mask, positions, self.empty_past(input_ids.shape[0]))
        return logits[:, -1, :], present, positions[:, -1:]

    # -- decoding ------------------------------------------------------------------------------

    def greedy(self, input_ids, attention_mask, pixel_values, max_new_tokens, on_logits=None):
        """Greedy decoding as transformers does it: finished rows continue with pad tokens.
        `on_logits(step, logits [B, V] float32, unfinished [B])`, if given, sees every step's logits."""
        logits, past, last_pos = self.prefill(input_ids, attention_mask, pixel_values)
        batch = input_ids.shape[0]
        sequences = input_ids.copy()
        unfinished = np.ones(batch, bool)
        mask = attention_mask.copy()
        for step in range(max_new_tokens):
            if on_logits is not None:
                on_logits(step, logits, unfinished.copy())
            next_tokens = np.argmax(logits, axis=-1)
            next_tokens = np.where(unfinished, next_tokens, self.pad_id)
            sequences = np.concatenate([sequences, next_tokens[:, None]], axis=1)
            unfinished &= ~np.isin(next_tokens, list(self.stop_ids))
            if not unfinished.any() or step == max_new_tokens - 1:
                break
            mask = np.concatenate([mask, np.ones((batch, 1), mask.dtype)], axis=1)
            last_pos = last_pos + 1
            embeds = self.embed.run(None, {"input_ids": next_tokens[:, None].astype(np.int64)})[0]
            step_logits, past = self.step(embeds, mask, last_pos, past)
            logits = step_logits[:, -1, :]
        return sequences

    def beam_search(self, input_ids, attention_mask, pixel_values, max_new_tokens, num_beams,
                    num_return_sequences=1, length_penalty=1.0, early_stopping=False):
        """Returns (sequences [B*num_return, T], scores [B*num_return]) like transformers 5.x."""
        logits, past, last_pos = self.prefill(input_ids, attention_mask, pixel_values)
        # Every beam starts from the same prompt: repeat the prefill results num_beams times.
        state = {"past": [np.repeat(p, num_beams, axis=0) for p in past],
                 "last_pos": np.repeat(last_pos, num_beams, axis=0),
                 "mask": np.repeat(attention_mask, num_beams, axis=0)}

        def advance(reorder, last_tokens):
            # Reorder the cache to the surviving beams and feed their last tokens.
            state["past"] = [p[reorder] for p in state["past"]]
            mask = state["mask"]
            state["mask"] = np.concatenate([mask[reorder], np.ones((mask.shape[0], 1), mask.dtype)], axis=1)
            state["last_pos"] = state["last_pos"][reorder] + 1
            embeds = self.embed.run(None, {"input_ids": last_tokens})[0]
            step_logits, state["past"] = self.step(embeds, state["mask"], state["last_pos"], state["past"])
            return step_logits[:, -1, :]

        return beam_search(np.repeat(logits, num_beams, axis=0), input_ids, advance, self.stop_ids, self.pad_id,
                           max_new_tokens, num_beams, num_return_sequences, length_penalty, early_stopping)


def beam_search(logits, input_ids, advance, stop_ids, fill_id, max_new_tokens, num_beams, num_return_sequences=1,
                length_penalty=1.0, early_stopping=False):
    """transformers 5.x's `_beam_search`, for any model: `logits` [B*num_beams, V] are the first
    step's (every beam of a row the same), `input_ids` [B, prompt_len] what the returned sequences
    start with (the decoder's prompt), and `advance(reorder, last_tokens [B*num_beams, 1])` moves the
    model's cache to the surviving beams (`reorder` indexes rows) and returns the next logits.
    `fill_id` pads finished hypotheses: Hugging Face's `pad_token_id or eos_token_id[0]`."""
    batch, prompt_len = input_ids.shape
    max_length = prompt_len + max_new_tokens
    vocab = logits.shape[-1]
    n_stop = len(stop_ids)
    keep = max(2, 1 + n_stop) * num_beams
    top_num_beam_mask = np.arange(keep) < num_beams

    running_seq = np.full((batch, num_beams, max_length), fill_id, np.int64)
    running_seq[:, :, :prompt_len] = input_ids[:, None, :]
    sequences = running_seq.copy()
    running_scores = np.zeros((batch, num_beams), np.float32)
    running_scores[:, 1:] = NEG
    beam_scores = np.full((batch, num_beams), NEG, np.float32)
    finished = np.zeros((batch, num_beams), bool)
    heuristic_unsatisfied = np.ones((batch, 1), bool)
    generated_len = np.zeros((batch, num_beams), np.int64)  # filled beam_indices per final hypothesis
    running_gen_len = np.zeros((batch, num_beams), np.int64)
    cur_len = prompt_len
    while True:
        log_probs = _log_softmax(logits).reshape(batch, num_beams, vocab) + running_scores[:, :, None]
        log_probs = log_probs.reshape(batch, num_beams * vocab)
        topk_idx = _topk_indices(log_probs, keep)
        topk_lp = np.take_along_axis(log_probs, topk_idx, axis=1)
        src_beam = topk_idx // vocab
        ids = topk_idx % vocab
        topk_seq = np.take_along_axis(running_seq, src_beam[:, :, None], axis=1).copy()
        topk_seq[:, :, cur_len] = ids
        topk_gen_len = np.take_along_axis(running_gen_len, src_beam, axis=1) + 1
        hits = np.isin(ids, list(stop_ids)) | (cur_len + 1 >= max_length)

        # Running beams for the next step: the best candidates that did not stop.
        running_lp = topk_lp + hits.astype(np.float32) * NEG
        nxt = _topk_indices(running_lp, num_beams)
        running_seq = np.take_along_axis(topk_seq, nxt[:, :, None], axis=1)
        running_scores = np.take_along_axis(running_lp, nxt, axis=1).astype(np.float32)
        running_gen_len = np.take_along_axis(topk_gen_len, nxt, axis=1)
        reorder = (np.take_along_axis(src_beam, nxt, axis=1) + np.arange(batch)[:, None] * num_beams).reshape(-1)

        # Finished hypotheses: only candidates among the top num_beams may finish.
        just_finished = hits & top_num_beam_mask[None, :]
        scored = topk_lp / float((cur_len + 1 - prompt_len) ** length_penalty)
        full = finished.all(axis=-1, keepdims=True) & (early_stopping is True)
        scored = scored + full.astype(np.float32) * NEG
        scored = scored + (~heuristic_unsatisfied).astype(np.float32) * NEG
        scored = scored + (~just_finished).astype(np.float32) * NEG
        merged_seq = np.concatenate([sequences, topk_seq], axis=1)
        merged_scores = np.concatenate([beam_scores, scored.astype(np.float32)], axis=1)
        merged_finished = np.concatenate([finished, just_finished], axis=1)
        merged_len = np.concatenate([generated_len, topk_gen_len], axis=1)
        best = _topk_indices(merged_scores, num_beams)
        sequences = np.take_along_axis(merged_seq, best[:, :, None], axis=1)
        beam_scores = np.take_along_axis(merged_scores, best, axis=1)
        finished = np.take_along_axis(merged_finished, best, axis=1)
        generated_len = np.take_along_axis(merged_len, best, axis=1)

        cur_len += 1
        if early_stopping == "never" and length_penalty > 0.0:
            best_len = max_length - prompt_len
        else:
            best_len = cur_len - prompt_len
        best_running = running_scores[:, :1] / float(best_len ** length_penalty)
        worst_finished = np.where(finished, beam_scores.min(axis=1, keepdims=True), NEG)
        heuristic_unsatisfied = heuristic_unsatisfied & np.any(best_running > worst_finished, axis=-1,
                                                               keepdims=True)
        exists_open = not (finished.all() and early_stopping is True)
        if not (heuristic_unsatisfied.any() and exists_open and not hits.all()):
            break

        # Next step: the surviving beams' last tokens.
        logits = advance(reorder, running_seq[:, :, cur_len - 1].reshape(-1, 1))

    sequences = sequences[:, :num_return_sequences].reshape(batch * num_return_sequences, -1)
    scores = beam_scores[:, :num_return_sequences].reshape(-1)
    out_len = prompt_len + int(generated_len[:, :num_return_sequences].max())
    return sequences[:, :out_len], scores


def _log_softmax(x):
    x = x.astype(np.float32)
    m = x.max(axis=-1, keepdims=True)
    return (x - m) - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _topk_indices(x, k):
    """Indices of the k largest values per row, largest first (ties: lower index first)."""
    return np.argsort(-x, axis=-1, kind="stable")[:, :k]
