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
        return self.vision.run(None, {"pixel_values": pixel_values})[0]

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
