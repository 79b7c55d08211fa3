"""GPU check on Python ONNX Runtime, the fallback for machines where the Java CUDA build cannot run
(`CudaCheck.java` needs onnxruntime_gpu 1.29 for CUDA 12 + cuDNN 9 and a JDK).

    python -m shoplens_export cuda-check --bundle ../processor/src/test/resources/models/tiny-blip2-opt

Needs only numpy and an onnxruntime with the CUDA provider (`onnxruntime-gpu`). Prints JSON lines:
what it found (onnxruntime version and build, providers, the driver's CUDA version); the greedy
reference cases run on CPU and on CUDA (tokens must be identical, and equal Hugging Face's); the
cost of copying the KV cache between host and GPU every step, measured as a decoder step fed from
host arrays (what ONNX Runtime Java does: it has no IOBinding) against the same step with inputs
and outputs bound on the GPU (IOBinding); the bytes per step; and the host-GPU round-trip
bandwidth with the projected copy time per step at the `bench` preset's shapes.

Exit status: 0 tokens identical; 1 a token differs; 3 the CUDA provider is not available (the
`error` line says why).
"""

import base64
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

# y = Neg(x) over a float vector of any length, opset 18 (the same 86 bytes as CudaCheck.java).
NEG_GRAPH = base64.b64decode("CAgSE3Nob3BsZW5zLWN1ZGEtY2hlY2s6NwoLCgF4EgF5IgNOZWcSBGNvcHlaEAoBeBILCgkIARIFCgMSAW5i"
                             "EAoBeRILCgkIARIFCgMSAW5CBAoAEBI=")
CUDA = "CUDAExecutionProvider"
BENCH_TEXT = dict(num_layers=12, num_heads=12, head_dim=64, hidden_size=768, vocab_size=50272)  # OPT-125m


def emit(**fields):
    print(json.dumps(fields), flush=True)


def driver_cuda_version():
    """The CUDA version the NVIDIA driver supports, from nvidia-smi, or why it is unknown."""
    if shutil.which("nvidia-smi") is None:
        return "unknown (no nvidia-smi on PATH)"
    try:
        out = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return f"unknown (nvidia-smi failed: {e})"
    for part in out.split("|"):
        if "CUDA Version" in part:
            return part.split("CUDA Version:")[-1].strip()
    return "unknown (nvidia-smi printed no CUDA Version)"


def step_copy_bytes(text, batch, past):
    """Bytes crossing host<->GPU in one decoder step without IOBinding (CudaCheck.stepCopyBytes)."""
    kv = 2 * text["num_layers"] * batch * text["num_heads"] * text["head_dim"] * 4
    inputs = kv * past + 4 * batch * text["hidden_size"] + 8 * batch * (past + 1) + 8 * batch
    outputs = kv * (past + 1) + 4 * batch * text["vocab_size"]
    return inputs + outputs


def median_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(runs)


def greedy_cases(bundle_dir, cpu, gpu):
    reference = json.loads((Path(bundle_dir) / "reference.json").read_text())
    all_same = True
    for case in reference["cases"]:
        g = case["generation"]
        # Plain greedy only: this loop has no logits processors, so a penalised case could not
        # equal Hugging Face's tokens on either provider.
        if g.get("do_sample") or g.get("num_beams", 1) != 1 or g.get("repetition_penalty", 1.0) != 1.0:
            continue
        ids = np.array(case["input_ids"], np.int64)
        mask = np.array(case["attention_mask"], np.int64)
        pv = np.stack([np.array(reference["images"][im]["pixel_values"], np.float32)
                       .reshape(reference["images"][im]["pixel_values_shape"]) for im in case["images"]])
        on_cpu = cpu.greedy(ids, mask, pv, g["max_new_tokens"])
        on_gpu = gpu.greedy(ids, mask, pv, g["max_new_tokens"])
        hf = np.array(case["sequences"], np.int64)
        same = on_cpu.shape == on_gpu.shape and bool((on_cpu == on_gpu).all())
        all_same &= same
        emit(kind="greedy_case", case=case["name"], cpu_equals_cuda=same,
             cuda_equals_hf=on_gpu.shape == hf.shape and bool((on_gpu == hf).all()),
             cpu_new_tokens=on_cpu[:, ids.shape[1]:].tolist(), cuda_new_tokens=on_gpu[:, ids.shape[1]:].tolist())
    return all_same


def decoder_step_costs(runner_cpu, runner_gpu, device, device_id, past, reps):
    """One decoder step at past length `past`, batch 1: CPU; CUDA fed from host arrays (copies,
    like Java); CUDA with IOBinding (past, present and logits stay on the GPU)."""
    import onnxruntime as ort

    m = runner_cpu.manifest["text"]
    rng = np.random.default_rng(7)
    shape = (1, m["num_heads"], past, m["head_dim"])
    past_kv = [rng.standard_normal(shape).astype(np.float32) for _ in range(2 * m["num_layers"])]
    feed = {"inputs_embeds": rng.standard_normal((1, 1, m["hidden_size"])).astype(np.float32),
            "attention_mask": np.ones((1, past + 1), np.int64), "position_ids": np.array([[past]], np.int64)}
    for i in range(m["num_layers"]):
        feed[f"past_key_values.{i}.key"], feed[f"past_key_values.{i}.value"] = past_kv[2 * i], past_kv[2 * i + 1]
    cpu_ms = median_ms(lambda: runner_cpu.decoder.run(None, feed), reps)
    host_fed_ms = median_ms(lambda: runner_gpu.decoder.run(None, feed), reps)

    session = runner_gpu.decoder
    binding = session.io_binding()
    for name, value in feed.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, device, device_id))
    for out in session.get_outputs():
        binding.bind_output(out.name, device, device_id)

    def bound():
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()

    bound_ms = median_ms(bound, reps)
    emit(kind="decoder_step", batch=1, past=past, bytes_per_step=step_copy_bytes(m, 1, past),
         cpu_step_ms=cpu_ms, cuda_host_fed_step_ms=host_fed_ms, cuda_iobinding_step_ms=bound_ms,
         copy_overhead_ms=host_fed_ms - bound_ms)


def copy_bandwidth(ort, provider):
    """Round-trip bytes per second at the largest size (64 MiB, about a bench-shaped KV cache;
    smaller buffers overstate the bandwidth)."""
    session = ort.InferenceSession(NEG_GRAPH, providers=[provider])
    last = 0.0
    for mib in (1, 4, 16, 64):
        x = np.zeros(mib * (1 << 20) // 4, np.float32)
        ms = median_ms(lambda: session.run(None, {"x": x}), 10)
        bytes_per_s = 2 * x.nbytes / (ms / 1000.0)  # in and back out
        last = bytes_per_s
        emit(kind="copy_bandwidth", mib_each_way=mib, round_trip_ms=ms, gib_per_s=bytes_per_s / (1 << 30))
    return last


def main(args):
    from shoplens_export.runtime import BundleRunner

    device_id = int(os.environ.get("SHOPLENS_CUDA_DEVICE", "0"))
    try:
        import onnxruntime as ort
    except ImportError as e:
        emit(kind="error", reason=f"onnxruntime is not installed: {e}")
        return 3
    providers = ort.get_available_providers()
    emit(kind="environment", onnxruntime=ort.__version__, build_info=getattr(ort, "get_build_info", lambda: "?")(),
         device=ort.get_device(), providers=providers, driver_cuda_version=driver_cuda_version(),
         cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))
    provider, device = (CUDA, {"device_id": device_id}), "cuda"
    if args.dry_run_on_cpu:
        # Every path with the CPU provider standing in for CUDA, to test this module where there is
        # no GPU; the numbers mean nothing.
        provider, device, device_id = "CPUExecutionProvider", "cpu", 0
    elif CUDA not in providers:
        emit(kind="error", reason=f"onnxruntime {ort.__version__} offers no {CUDA} (providers: {providers}); "
                                  "this is the CPU build: install onnxruntime-gpu built for this machine's CUDA")
        return 3
    cpu = BundleRunner(args.bundle)
    gpu = BundleRunner(args.bundle, providers=[provider] if args.dry_run_on_cpu else [provider, "CPUExecutionProvider"])
    # ONNX Runtime falls back to the CPU silently when the CUDA libraries fail to load: check.
    active = gpu.decoder.get_providers()
    if active[0] != CUDA and not args.dry_run_on_cpu:
        emit(kind="error", reason=f"{CUDA} is listed but did not load (session providers: {active}); "
                                  "see ONNX Runtime's warnings above for the missing CUDA/cuDNN library")
        return 3
    all_same = greedy_cases(args.bundle, cpu, gpu)
    for past in (16, 64, 256):
        decoder_step_costs(cpu, gpu, device, device_id, past, args.steps)
    bandwidth = copy_bandwidth(ort, provider)
    for batch in (1, 8):
        for past in (64, 128, 512):
            b = step_copy_bytes(BENCH_TEXT, batch, past)
            emit(kind="bench_shape_copy", batch=batch, past=past, bytes_per_step=b,
                 projected_copy_ms=1000.0 * b / bandwidth)
    emit(kind="verdict", tokens_identical=all_same)
    return 0 if all_same else 1
