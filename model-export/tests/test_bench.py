"""The benchmark's Python side and the GPU check, on the committed tiny bundle (fast; no timing is
asserted: speed is the benchmark script's business)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import COMMITTED_BUNDLE
from shoplens_export import bench

MODEL_EXPORT = Path(__file__).resolve().parents[1]


def test_pixels_follow_the_formula_shared_with_java():
    # EngineBenchmark.pixels: (float) (((i * 31 + image * 17) % 255) / 127.5 - 1.0)
    p = bench.pixels(2, 4).reshape(-1)
    expected = [np.float32(((i * 31 + 2 * 17) % 255) / 127.5 - 1.0) for i in range(48)]
    assert p.dtype == np.float32
    assert p.tolist() == expected


@pytest.mark.parametrize("impl", ["ort", "torch"])
def test_should_decode_exactly_max_new_tokens_per_row_and_report_json_lines(impl):
    out = io.StringIO()
    bench.run(COMMITTED_BUNDLE, impl, batches=(1, 2), max_new_tokens=6, warmup=0, reps=1, threads=1, out=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["kind"] for line in lines] == ["setup", "result", "result"]
    for r in lines[1:]:
        assert len(r["tokens_row0"]) == 6
        assert r["tokens_per_s"] > 0 and r["images_per_s"] > 0 and r["peak_rss_mib"] > 0
    # Stop tokens (2 and 412 for the tiny model) are suppressed while min_new_tokens is not reached.
    assert not {2, 412} & set(lines[1]["tokens_row0"])


def test_ort_loop_and_pytorch_agree_on_tokens_for_the_same_weights():
    runs = {}
    for impl in ("ort", "torch"):
        out = io.StringIO()
        bench.run(COMMITTED_BUNDLE, impl, batches=(2,), max_new_tokens=8, warmup=0, reps=1, threads=1, out=out)
        runs[impl] = json.loads(out.getvalue().splitlines()[1])
    assert runs["ort"]["tokens_row0"] == runs["torch"]["tokens_row0"]
    assert runs["ort"]["query_embeds_row0_head"] == pytest.approx(runs["torch"]["query_embeds_row0_head"], abs=1e-4)


def _line(impl, batch, images, tokens, rss=100.0, toks=(1, 2)):
    return json.dumps({"kind": "result", "impl": impl, "batch": batch, "images_per_s": images,
                       "tokens_per_s": tokens, "peak_rss_mib": rss, "tokens_row0": list(toks)})


def test_table_keeps_each_implementations_best_round_and_divides_java_by_the_others():
    lines = [_line("java-ort", 1, 4.0, 30.0), _line("java-ort", 1, 2.0, 40.0, rss=120.0),
             _line("python-ort", 1, 2.0, 20.0), _line("pytorch", 1, 1.0, 10.0, toks=(1, 3))]
    table = bench.table(lines)
    assert "| 1 | java-ort | 4.00 | 40.0 | 120 | — | — |" in table
    assert "| 1 | python-ort | 2.00 | 20.0 | 100 | 2.00 | 2.00 |" in table
    assert "| 1 | pytorch | 1.00 | 10.0 | 100 | 4.00 | 4.00 |" in table
    assert "batch 1: row 0 tokens differ" in table


def test_cuda_check_reports_the_providers_and_exits_3_only_without_the_cuda_provider():
    import onnxruntime as ort

    p = subprocess.run([sys.executable, "-m", "shoplens_export", "cuda-check", "--bundle", str(COMMITTED_BUNDLE)],
                       cwd=MODEL_EXPORT, capture_output=True, text=True)
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert lines[0]["kind"] == "environment" and "CPUExecutionProvider" in lines[0]["providers"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        # A GPU build (not the pinned CPU one): the check must run and give a verdict instead.
        assert p.returncode in (0, 1), p.stderr
        assert lines[-1]["kind"] == "verdict"
    else:
        assert p.returncode == 3
        assert lines[-1]["kind"] == "error" and "offers no CUDAExecutionProvider" in lines[-1]["reason"]


def test_cuda_check_runs_every_step_with_the_cpu_standing_in():
    p = subprocess.run([sys.executable, "-m", "shoplens_export", "cuda-check", "--bundle", str(COMMITTED_BUNDLE),
                        "--dry-run-on-cpu", "--steps", "2"], cwd=MODEL_EXPORT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    kinds = [json.loads(line)["kind"] for line in p.stdout.splitlines()]
    assert kinds.count("greedy_case") == 9
    assert {"decoder_step", "copy_bandwidth", "bench_shape_copy"} <= set(kinds)
    assert json.loads(p.stdout.splitlines()[-1]) == {"kind": "verdict", "tokens_identical": True}


def test_serving_table_compares_p99_at_each_ones_half_load_and_at_the_same_offered_load():
    def serving(impl, load, rps, p50, p99, offered=None):
        return json.dumps({"kind": "serving", "impl": impl, "load": load, "offered_rps": offered, "rps": rps,
                           "tokens_per_s": 5 * rps, "p50_ms": p50, "p99_ms": p99, "peak_rss_mib": 100,
                           "kv_bytes_peak": 2 ** 20})

    lines = [serving("java-static", "saturation", 6.0, 500, 1500), serving("java-static", "50%", 3.0, 400, 1200, 3.0),
             serving("java-continuous", "saturation", 12.0, 300, 1000),
             serving("java-continuous", "50%", 6.0, 200, 1320, 6.0),
             serving("java-continuous", "50% of static", 3.0, 100, 480, 3.0)]
    table = bench.serving_table(lines)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| java")}
    assert rows["java-static"].split("|")[-3].strip() == "2.00"  # 12 / 6 req/s
    assert rows["java-static"].split("|")[-2].strip() == "1.10"  # 1320 / 1200 at each one's half load
    assert ("at the same offered load (50 % of java-static's saturation, 3.00 req/s): java-continuous p50 / p99 "
            "100 / 480 ms against java-static 400 / 1200 ms: p99 continuous / static 0.40") in table
