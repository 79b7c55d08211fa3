"""Benchmark counterparts of the Java engine's `EngineBenchmark`, on the same bundle and weights.

`--impl ort` runs the bundle's graphs on Python ONNX Runtime with the same greedy loop as the Java
engine (embed, scatter the query embeddings, prefill, then one decoder step per token with the KV
cache fed back). `--impl torch` runs Hugging Face in PyTorch on the same weights: the preset is
rebuilt from the seed recorded in the bundle's manifest (`presets.build` is deterministic), the
vision path is exactly what `Blip2ForConditionalGeneration.generate()` runs before decoding, and
decoding is the language model's own `generate()` on the same `inputs_embeds` that
`Blip2ForConditionalGeneration.generate()` hands it.

Protocol (same as the Java side, see EngineBenchmark's Javadoc): batches ascending; B images of
deterministic synthetic pixels (`pixels`, bit-identical to Java's) and B copies of one question;
vision time is the vision path on B images; generation time is prefill plus greedy decoding of
exactly `max_new_tokens` per row (`min_new_tokens` = max: stop tokens suppressed) from query
embeddings computed beforehand; `warmup` untimed runs, `reps` timed runs, median reported; peak RSS
is VmHWM after the batch (the process's peak so far, model loading included). One JSON object per
line on stdout.
"""

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from shoplens_export import bundle
from shoplens_export.errors import ExportError

QUESTION = "what is the colour of the dress?"  # EngineBenchmark.QUESTION


def pixels(image, size):
    """Image `image`'s synthetic pixels [3, size, size]: computed in float64 and rounded to float32
    exactly as EngineBenchmark.pixels does, so both sides see the same input."""
    i = np.arange(3 * size * size, dtype=np.int64)
    return (((i * 31 + image * 17) % 255) / 127.5 - 1.0).astype(np.float32).reshape(3, size, size)


def proc_status_mib(field):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return -1.0


def load_average():
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def timed(warmup, reps, fn):
    """Runs fn warmup times, then reps times; returns (last result, list of ms)."""
    result = None
    for _ in range(warmup):
        result = fn()
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - start) * 1000.0)
    return result, runs


def prompt_ids(bundle_dir, manifest):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(bundle_dir) / "tokenizer.json"))
    text = manifest["prompt"]["question_template"].format(question=QUESTION)
    image = manifest["tokens"]["image_token_id"]
    # Blip2Processor: Q image tokens, then the text with special tokens (</s> first).
    return [image] * manifest["num_query_tokens"] + tok.encode(text, add_special_tokens=True).ids


class OrtBench:
    """The Java engine's loop on Python ONNX Runtime."""

    name = "python-ort"

    def __init__(self, bundle_dir, manifest, threads):
        import onnxruntime as ort

        if manifest["dtype"] != "float32":
            raise ExportError("the benchmark runs float32 bundles only")
        opts = ort.SessionOptions()
        # Same settings as EngineConfig.withThreads(threads, 1) in Java: ORT_ENABLE_ALL is Java's
        # ALL_OPT, sequential execution is the default of both.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3

        def session(name):
            return ort.InferenceSession(str(Path(bundle_dir) / name), opts, providers=["CPUExecutionProvider"])

        self.vision, self.embed, self.decoder = (session(n) for n in ("vision.onnx", "embed.onnx", "decoder.onnx"))
        self.runtime = f"onnxruntime {ort.__version__}"
        self.inter_op = 1
        text, tokens = manifest["text"], manifest["tokens"]
        self.layers, self.heads, self.head_dim = text["num_layers"], text["num_heads"], text["head_dim"]
        self.image_token_id = tokens["image_token_id"]
        self.stop_ids = list(tokens["stop_token_ids"])
        self.past_names = [f"past_key_values.{i}.{kv}" for i in range(self.layers) for kv in ("key", "value")]

    def encode_images(self, pixel_values):
        return self.vision.run(["query_embeds"], {"pixel_values": pixel_values})[0]

    def generate(self, input_ids, query_embeds, max_new_tokens, min_new_tokens):
        batch = input_ids.shape[0]
        embeds = self.embed.run(None, {"input_ids": input_ids})[0]
        embeds[input_ids == self.image_token_id] = query_embeds.reshape(-1, query_embeds.shape[-1])
        mask = np.ones_like(input_ids)
        positions = np.cumsum(mask, axis=1) - 1
        feed = {"inputs_embeds": embeds, "attention_mask": mask, "position_ids": positions}
        empty = np.zeros((batch, self.heads, 0, self.head_dim), np.float32)
        for name in self.past_names:
            feed[name] = empty
        out = self.decoder.run(None, feed)
        # Format 2: logits [B,1,V] of the last position, as the Java engine reads them.
        logits, past = out[0][:, -1, :], out[1:]
        last_pos = positions[:, -1:]
        tokens = np.empty((batch, max_new_tokens), np.int64)
        for step in range(max_new_tokens):
            scores = logits
            if step < min_new_tokens:
                scores = logits.copy()
                scores[:, self.stop_ids] = -np.inf
            nxt = np.argmax(scores, axis=-1)
            tokens[:, step] = nxt
            if step == max_new_tokens - 1:
                break
            mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
            last_pos = last_pos + 1
            feed = {"inputs_embeds": self.embed.run(None, {"input_ids": nxt[:, None]})[0],
                    "attention_mask": mask, "position_ids": last_pos}
            feed.update(zip(self.past_names, past))
            out = self.decoder.run(None, feed)
            logits, past = out[0][:, -1, :], out[1:]
        return tokens


class TorchBench:
    """Hugging Face in PyTorch on the weights the bundle was exported from."""

    name = "pytorch"

    def __init__(self, bundle_dir, manifest, threads):
        import torch
        import transformers

        from shoplens_export import presets

        exporter = manifest.get("exporter", {})
        preset, seed = exporter.get("preset"), exporter.get("seed")
        if preset is None or seed is None:
            raise ExportError(f"{bundle_dir}: not exported from a preset (exporter.preset/seed are null); "
                              "PyTorch cannot rebuild its weights")
        if manifest["dtype"] != "float32":
            raise ExportError("the benchmark runs float32 bundles only")
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # fixed once parallel work has run in this process (tests); the setup line says what it is
        self.inter_op = torch.get_num_interop_threads()
        self.torch = torch
        self.model, _ = presets.build(presets.get(preset), seed)
        self.runtime = f"torch {torch.__version__}, transformers {transformers.__version__}"
        self.image_token_id = manifest["tokens"]["image_token_id"]

    def encode_images(self, pixel_values):
        # What Blip2ForConditionalGeneration.generate() runs before the language model.
        torch, m = self.torch, self.model
        with torch.inference_mode():
            pv = torch.from_numpy(pixel_values)
            image_embeds = m.vision_model(pv, return_dict=True).last_hidden_state
            att = torch.ones(image_embeds.size()[:-1], dtype=torch.long)
            query = m.qformer(query_embeds=m.query_tokens.expand(pv.shape[0], -1, -1),
                              encoder_hidden_states=image_embeds, encoder_attention_mask=att,
                              return_dict=True).last_hidden_state
            return m.language_projection(query).numpy()

    def generate(self, input_ids, query_embeds, max_new_tokens, min_new_tokens):
        # The rest of Blip2ForConditionalGeneration.generate(): embed, masked_scatter, then the
        # language model's generate() on inputs_embeds.
        torch, m = self.torch, self.model
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids)
            embeds = m.get_input_embeddings()(ids)
            image_mask = (ids == self.image_token_id).unsqueeze(-1)
            embeds = embeds.masked_scatter(image_mask, torch.from_numpy(query_embeds))
            out = m.language_model.generate(inputs_embeds=embeds, attention_mask=torch.ones_like(ids),
                                            input_ids=ids, max_new_tokens=max_new_tokens,
                                            min_new_tokens=min_new_tokens, do_sample=False, num_beams=1)
        return out[:, ids.shape[1]:].numpy()


def run(bundle_dir, impl, batches=(1, 4, 8), max_new_tokens=16, warmup=1, reps=3, threads=2, out=None):
    """Runs the benchmark and writes JSON lines to `out` (stdout by default)."""
    import sys

    out = out or sys.stdout
    start = time.perf_counter()
    manifest = bundle.load_manifest(bundle_dir)
    bench = {"ort": OrtBench, "torch": TorchBench}[impl](bundle_dir, manifest, threads)
    setup = {"kind": "setup", "impl": bench.name, "runtime": bench.runtime, "model_version": manifest["model_version"],
             "intra_op_threads": threads, "inter_op_threads": bench.inter_op, "load_s": time.perf_counter() - start,
             "rss_after_load_mib": proc_status_mib("VmRSS"), "loadavg": load_average()}
    print(json.dumps(setup), file=out, flush=True)
    ids_row = np.array(prompt_ids(bundle_dir, manifest), np.int64)
    size = manifest["vision"]["image_size"]
    for b in batches:
        pv = np.stack([pixels(i, size) for i in range(b)])
        qe, vision_runs = timed(warmup, reps, lambda: bench.encode_images(pv))
        input_ids = np.tile(ids_row, (b, 1))
        tokens, gen_runs = timed(warmup, reps, lambda: bench.generate(input_ids, qe, max_new_tokens, max_new_tokens))
        if tokens.shape != (b, max_new_tokens):
            raise RuntimeError(f"{bench.name} generated {tokens.shape}, expected {(b, max_new_tokens)}")
        vision, gen = statistics.median(vision_runs), statistics.median(gen_runs)
        result = {"kind": "result", "impl": bench.name, "batch": b, "images_per_s": b / (vision / 1000),
                  "vision_ms": vision, "vision_runs_ms": vision_runs, "new_tokens": max_new_tokens,
                  "prompt_tokens": len(ids_row), "tokens_per_s": b * max_new_tokens / (gen / 1000),
                  "generate_ms": gen, "generate_runs_ms": gen_runs,
                  "query_embeds_row0_head": [float(x) for x in np.asarray(qe)[0].reshape(-1)[:4]],
                  "tokens_row0": [int(t) for t in tokens[0]], "peak_rss_mib": proc_status_mib("VmHWM"),
                  "loadavg": load_average()}
        print(json.dumps(result), file=out, flush=True)


def table(lines):
    """Markdown table of JSON result lines from all implementations, with Java / other ratios.

    With several rounds (the same implementation and batch more than once), each throughput is the
    best round's median and peak RSS the highest: other tenants of a shared machine only ever slow
    a run down, so the best round is the least disturbed one."""
    results = {}
    setups = {}
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("kind") == "setup":
            setups.setdefault(r["impl"], []).append(r)
        elif r.get("kind") == "result":
            results.setdefault((r["impl"], r["batch"]), []).append(r)
    best = {}
    for key, rs in results.items():
        best[key] = {"images_per_s": max(r["images_per_s"] for r in rs),
                     "tokens_per_s": max(r["tokens_per_s"] for r in rs),
                     "peak_rss_mib": max(r["peak_rss_mib"] for r in rs),
                     "tokens_row0": rs[0]["tokens_row0"], "rounds": len(rs)}
    impls = [i for i in ("java-ort", "python-ort", "pytorch") if any(k[0] == i for k in best)]
    batches = sorted({k[1] for k in best})
    rows = ["| batch | implementation | images/s | tokens/s | peak RSS (MiB) | Java / this, images/s | "
            "Java / this, tokens/s |",
            "|---:|---|---:|---:|---:|---:|---:|"]
    for b in batches:
        java = best.get(("java-ort", b))
        for impl in impls:
            r = best.get((impl, b))
            if r is None:
                continue
            if impl == "java-ort" or java is None:
                img_ratio = tok_ratio = "—"
            else:
                # Java / other: above 1.00 Java is faster.
                img_ratio = f"{java['images_per_s'] / r['images_per_s']:.2f}"
                tok_ratio = f"{java['tokens_per_s'] / r['tokens_per_s']:.2f}"
            rows.append(f"| {b} | {impl} | {r['images_per_s']:.2f} | {r['tokens_per_s']:.1f} | "
                        f"{r['peak_rss_mib']:.0f} | {img_ratio} | {tok_ratio} |")
    notes = []
    for impl in impls:
        ss = setups.get(impl, [{}])
        s0 = ss[0]
        notes.append(f"- {impl}: {s0.get('runtime', '?')}, intra-op threads {s0.get('intra_op_threads', '?')}, "
                     f"inter-op {s0.get('inter_op_threads', '?')}, {len(ss)} round(s), load average at start "
                     + "; ".join(s.get("loadavg", "?").rsplit(" ", 2)[0] for s in ss))
    # Same weights and inputs: the first row's greedy tokens should agree across implementations.
    differ = []
    for b in batches:
        toks = {impl: best[(impl, b)]["tokens_row0"] for impl in impls if (impl, b) in best}
        if len({tuple(t) for t in toks.values()}) > 1:
            differ.append(f"- batch {b}: row 0 tokens differ: " + "; ".join(f"{k} {v}" for k, v in toks.items()))
    notes += differ or [f"- row 0 greedy tokens are identical across {', '.join(impls)} at every batch size"]
    return "\n".join(rows + [""] + notes)


def main(args):
    if args.table:
        lines = []
        for f in args.table:
            lines.extend(Path(f).read_text().splitlines())
        print(table(lines))
        return 0
    if not args.bundle or not args.impl:
        raise ExportError("bench needs --bundle DIR and --impl ort|torch (or --table FILE...)")
    if not Path(args.bundle).is_dir():
        raise ExportError(f"{args.bundle}: no such bundle directory (export one with: "
                          f"python -m shoplens_export export --preset bench --out {args.bundle})")
    batches = tuple(int(b) for b in args.batches.split(","))
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    run(args.bundle, args.impl, batches, args.max_new_tokens, args.warmup, args.reps, args.threads)
    return 0


# ---- serving mode: a ShopLens-shaped workload with arrivals (scripts/bench-engine --serving) ----------------------

ATTRIBUTE_PROMPTS = ["what colour is it?", "what is it made of?", "what style is it?",
                     "what pattern does it have?", "what occasion is it for?"]
QUESTIONS = ["is it machine washable?", "does it run true to size?", "what would go well with it?",
             "is it suitable for winter?", "what is the neckline like?", "is the fabric stretchy?",
             "is it see-through?", "how long is it?"]


def serving_workload(uploads, seed=7):
    """The serving workload: per upload 1 caption, 5 attribute prompts and 8 questions about one image
    (upload u's image is `pixels(u)`), in arrival order upload by upload. Output lengths are forced
    (min = max new tokens) from a fixed distribution: captions uniform 12..30 tokens; attribute
    prompts and questions 1..3 tokens with probability 0.8, else 8..16. Returns the workload dict the
    Java side reads too (`gaps` are Exp(1) inter-arrival draws, divided by the offered rate)."""
    rng = np.random.default_rng(seed)

    def answer():
        return int(rng.integers(1, 4)) if rng.random() < 0.8 else int(rng.integers(8, 17))

    requests = []
    for u in range(uploads):
        requests.append({"id": f"u{u}-caption", "upload": u, "question": None, "new_tokens": int(rng.integers(12, 31))})
        for k, q in enumerate(ATTRIBUTE_PROMPTS):
            requests.append({"id": f"u{u}-attribute{k}", "upload": u, "question": q, "new_tokens": answer()})
        for k, q in enumerate(QUESTIONS):
            requests.append({"id": f"u{u}-question{k}", "upload": u, "question": q, "new_tokens": answer()})
    gaps = rng.exponential(1.0, len(requests)).tolist()
    return {"seed": seed, "uploads": uploads, "requests": requests, "gaps": gaps, "max_batch": 8, "max_wait_ms": 10}


def serving_prompt_ids(tok, manifest, question):
    """Blip2Processor's ids for a caption (question None: image tokens + </s>) or a question."""
    q = [manifest["tokens"]["image_token_id"]] * manifest["num_query_tokens"]
    if question is None:
        return q + [manifest["tokens"]["bos_token_id"]]
    text = manifest["prompt"]["question_template"].format(question=question)
    return q + tok.encode(text, add_special_tokens=True).ids


def pad_after_image(rows, q, pad):
    """Left-pads prompts after their q image tokens (docs/model-bundle.md): ids and mask [B, T]."""
    length = max(len(r) for r in rows)
    ids = np.full((len(rows), length), pad, np.int64)
    mask = np.zeros((len(rows), length), np.int64)
    for b, r in enumerate(rows):
        ids[b, :q], mask[b, :q] = r[:q], 1
        ids[b, length - (len(r) - q):], mask[b, length - (len(r) - q):] = r[q:], 1
    return ids, mask


class OrtServing(OrtBench):
    """A static-batch loop on Python ONNX Runtime: rows left-padded after the image tokens, greedy with
    each row's forced length, the batch decoding until its longest row is done."""

    def __init__(self, bundle_dir, manifest, threads):
        super().__init__(bundle_dir, manifest, threads)
        self.pad = manifest["tokens"]["pad_token_id"]
        self.q = manifest["num_query_tokens"]

    def generate_rows(self, rows, query_embeds, new_tokens):
        ids, mask = pad_after_image(rows, self.q, self.pad)
        batch = ids.shape[0]
        embeds = self.embed.run(None, {"input_ids": ids})[0]
        embeds[ids == self.image_token_id] = query_embeds.reshape(-1, query_embeds.shape[-1])
        positions = np.where(mask == 1, np.cumsum(mask, axis=1) - 1, 0)
        feed = {"inputs_embeds": embeds, "attention_mask": mask, "position_ids": positions}
        empty = np.zeros((batch, self.heads, 0, self.head_dim), np.float32)
        for name in self.past_names:
            feed[name] = empty
        out = self.decoder.run(None, feed)
        logits, past = out[0][:, -1, :], out[1:]
        last_pos = mask.sum(axis=1, keepdims=True) - 1
        steps = max(new_tokens)
        need = np.array(new_tokens)
        tokens = np.full((batch, steps), self.pad, np.int64)
        for step in range(steps):
            scores = logits.copy()
            scores[:, self.stop_ids] = -np.inf  # forced lengths: no row stops before its count
            nxt = np.where(step < need, np.argmax(scores, axis=-1), self.pad)
            tokens[:, step] = nxt
            if step == steps - 1:
                break
            mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
            last_pos = last_pos + 1
            feed = {"inputs_embeds": self.embed.run(None, {"input_ids": nxt[:, None]})[0],
                    "attention_mask": mask, "position_ids": last_pos}
            feed.update(zip(self.past_names, past))
            out = self.decoder.run(None, feed)
            logits, past = out[0][:, -1, :], out[1:]
        return [tokens[b, :n].tolist() for b, n in enumerate(new_tokens)], batch * mask.shape[1]


class TorchServing(TorchBench):
    """Hugging Face `generate()` on a static batch: the same padded layout, every row forced to the
    batch's longest length (generate() has no per-row length), each row's own tokens kept."""

    def __init__(self, bundle_dir, manifest, threads):
        super().__init__(bundle_dir, manifest, threads)
        self.pad = manifest["tokens"]["pad_token_id"]
        self.q = manifest["num_query_tokens"]

    def generate_rows(self, rows, query_embeds, new_tokens):
        torch, m = self.torch, self.model
        ids, mask = pad_after_image(rows, self.q, self.pad)
        steps = max(new_tokens)
        with torch.inference_mode():
            tids = torch.from_numpy(ids)
            embeds = m.get_input_embeddings()(tids)
            image_mask = (tids == self.image_token_id).unsqueeze(-1)
            embeds = embeds.masked_scatter(image_mask, torch.from_numpy(query_embeds))
            out = m.language_model.generate(inputs_embeds=embeds, attention_mask=torch.from_numpy(mask),
                                            input_ids=tids, max_new_tokens=steps, min_new_tokens=steps,
                                            do_sample=False, num_beams=1, pad_token_id=self.pad)
        gen = out[:, ids.shape[1]:].numpy()
        return [gen[b, :n].tolist() for b, n in enumerate(new_tokens)], ids.shape[0] * (ids.shape[1] + steps)


def serve_static(bench, tok, manifest, workload, arrivals, kv_bytes_per_token, run=0):
    """Serves the workload with a static-batch loop, as ShopLens's static scheduler forms batches: up to
    max_batch requests, waiting at most max_wait after the first, decoded to completion; a vision
    cache by image, as every implementation has. `arrivals[i]` is request i's offset in seconds.
    Returns (latencies s, duration s, tokens by id, peak KV bytes)."""
    size = manifest["vision"]["image_size"]
    reqs = workload["requests"]
    max_batch, max_wait = workload["max_batch"], workload["max_wait_ms"] / 1000.0
    prompts = [serving_prompt_ids(tok, manifest, r["question"]) for r in reqs]
    cache, latencies, tokens, kv_peak = {}, [0.0] * len(reqs), {}, 0
    t0 = time.perf_counter()
    nxt = 0
    while nxt < len(reqs):
        now = time.perf_counter() - t0
        if arrivals[nxt] > now:
            time.sleep(arrivals[nxt] - now)
        batch = [nxt]
        nxt += 1
        deadline = time.perf_counter() - t0 + max_wait
        while len(batch) < max_batch and nxt < len(reqs) and arrivals[nxt] <= deadline:
            now = time.perf_counter() - t0
            if arrivals[nxt] > now:
                time.sleep(arrivals[nxt] - now)
            batch.append(nxt)
            nxt += 1
        missing = sorted({reqs[i]["upload"] for i in batch} - cache.keys())
        if missing:
            qe = bench.encode_images(np.stack([pixels(u + 100 * run, size) for u in missing]))
            cache.update({u: qe[j] for j, u in enumerate(missing)})
        rows, kv_tokens = bench.generate_rows([prompts[i] for i in batch],
                                              np.stack([cache[reqs[i]["upload"]] for i in batch]),
                                              [reqs[i]["new_tokens"] for i in batch])
        kv_peak = max(kv_peak, kv_tokens * kv_bytes_per_token)
        done = time.perf_counter() - t0
        for i, row in zip(batch, rows):
            latencies[i] = done - arrivals[i]
            tokens[reqs[i]["id"]] = row
    return latencies, time.perf_counter() - t0, tokens, kv_peak


def serving_summary(impl, load, offered, workload, latencies, duration, kv_peak):
    lat = np.array(latencies) * 1000.0
    generated = sum(r["new_tokens"] for r in workload["requests"])
    return {"kind": "serving", "impl": impl, "load": load, "offered_rps": offered,
            "requests": len(latencies), "duration_s": duration, "rps": len(latencies) / duration,
            "tokens_per_s": generated / duration, "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99)), "peak_rss_mib": proc_status_mib("VmHWM"),
            "kv_bytes_peak": kv_peak, "loadavg": load_average()}


def run_serving(bundle_dir, impl, workload, threads=2, loads=(0.5, 0.8), out=None):
    """Saturation (every request at t=0), then Poisson arrivals at each fraction of this
    implementation's own saturation rate. JSON lines: setup, serving per load, tokens."""
    import sys

    from tokenizers import Tokenizer

    out = out or sys.stdout
    manifest = bundle.load_manifest(bundle_dir)
    bench = {"ort": OrtServing, "torch": TorchServing}[impl](bundle_dir, manifest, threads)
    tok = Tokenizer.from_file(str(Path(bundle_dir) / "tokenizer.json"))
    text = manifest["text"]
    kv_bytes_per_token = 2 * text["num_layers"] * text["num_heads"] * text["head_dim"] * 4
    print(json.dumps({"kind": "setup", "impl": bench.name, "runtime": bench.runtime,
                      "intra_op_threads": threads, "inter_op_threads": bench.inter_op,
                      "loadavg": load_average()}), file=out, flush=True)
    # Warm-up: one upload's requests, untimed.
    warm = dict(workload, requests=workload["requests"][:14])
    serve_static(bench, tok, manifest, warm, [0.0] * 14, kv_bytes_per_token, run=0)
    n = len(workload["requests"])
    lat, duration, tokens, kv = serve_static(bench, tok, manifest, workload, [0.0] * n, kv_bytes_per_token, run=1)
    sat = serving_summary(bench.name, "saturation", None, workload, lat, duration, kv)
    print(json.dumps(sat), file=out, flush=True)
    print(json.dumps({"kind": "tokens", "impl": bench.name, "tokens": tokens}), file=out, flush=True)
    for run, fraction in enumerate(loads, start=2):
        rate = fraction * sat["rps"]
        arrivals = np.cumsum(np.array(workload["gaps"]) / rate).tolist()
        arrivals = [a - arrivals[0] for a in arrivals]
        lat, duration, _, kv = serve_static(bench, tok, manifest, workload, arrivals, kv_bytes_per_token, run=run)
        print(json.dumps(serving_summary(bench.name, f"{round(fraction * 100)}%", rate, workload, lat, duration, kv)),
              file=out, flush=True)


def serving_table(lines):
    """Markdown table of serving results (one run of each implementation), with ratios of ShopLens
    continuous to each, and whether every request's tokens agree."""
    runs, tokens, setups = {}, {}, {}
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("kind") == "serving":
            runs[(r["impl"], r["load"])] = r
        elif r.get("kind") == "tokens":
            tokens[r["impl"]] = r["tokens"]
        elif r.get("kind") == "setup":
            setups[r["impl"]] = r
    impls = [i for i in ("java-continuous", "java-static", "python-ort", "pytorch") if (i, "saturation") in runs]
    head = ("| implementation | req/s (sat.) | tokens/s (sat.) | p50 / p99 ms @50% | p50 / p99 ms @80% | "
            "peak RSS MiB | peak KV MiB | continuous / this, req/s | p99 @50%: continuous / this |")
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cont = runs.get(("java-continuous", "saturation"))
    cont50 = runs.get(("java-continuous", "50%"))

    def lat(impl, load):
        r = runs.get((impl, load))
        return f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f}" if r else "—"

    for impl in impls:
        s = runs[(impl, "saturation")]
        half = runs.get((impl, "50%"))
        ratio = f"{cont['rps'] / s['rps']:.2f}" if cont else "—"
        p99 = f"{cont50['p99_ms'] / half['p99_ms']:.2f}" if cont50 and half else "—"
        rss = max(r["peak_rss_mib"] for k, r in runs.items() if k[0] == impl)
        kv = max(r["kv_bytes_peak"] for k, r in runs.items() if k[0] == impl) / 2**20
        rows.append(f"| {impl} | {s['rps']:.2f} | {s['tokens_per_s']:.1f} | {lat(impl, '50%')} | {lat(impl, '80%')} | "
                    f"{rss:.0f} | {kv:.1f} | {ratio} | {p99} |")
    notes = []
    same = runs.get(("java-continuous", "50% of static"))
    static50 = runs.get(("java-static", "50%"))
    if same and static50:
        notes.append(f"- at the same offered load (50 % of java-static's saturation, {same['offered_rps']:.2f} req/s): "
                     f"java-continuous p50 / p99 {same['p50_ms']:.0f} / {same['p99_ms']:.0f} ms against java-static "
                     f"{static50['p50_ms']:.0f} / {static50['p99_ms']:.0f} ms: p99 continuous / static "
                     f"{same['p99_ms'] / static50['p99_ms']:.2f}")
    for impl in impls:
        s = setups.get(impl, {})
        notes.append(f"- {impl}: {s.get('runtime', '?')}, intra-op threads {s.get('intra_op_threads', '?')}, "
                     f"load average at start {s.get('loadavg', '?').rsplit(' ', 2)[0]}")
    base = tokens.get("java-continuous")
    if base:
        for impl in impls[1:]:
            other = tokens.get(impl, {})
            same = sum(1 for k, v in base.items() if other.get(k) == v)
            notes.append(f"- tokens equal to java-continuous: {impl} {same}/{len(base)} requests")
    return "\n".join(rows + [""] + notes)


def _serving_main(argv=None):
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m shoplens_export.bench",
                                description="serving benchmark (scripts/bench-engine --serving)")
    p.add_argument("--workload", help="workload JSON: written with --write-workload, read otherwise")
    p.add_argument("--write-workload", action="store_true")
    p.add_argument("--uploads", type=int, default=8)
    p.add_argument("--bundle")
    p.add_argument("--impl", choices=["ort", "torch"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--table", nargs="+", metavar="FILE")
    a = p.parse_args(argv)
    if a.table:
        lines = []
        for f in a.table:
            lines.extend(Path(f).read_text().splitlines())
        print(serving_table(lines))
    elif a.write_workload:
        Path(a.workload).write_text(json.dumps(serving_workload(a.uploads)) + "\n")
    else:
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        run_serving(a.bundle, a.impl, json.loads(Path(a.workload).read_text()), a.threads)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serving_main())
