"""FLOPs of a bundle's graphs at given shapes, counted from the graphs themselves, and a matrix-
multiply graph that measures the machine's practical peak (`scripts/bench-engine --roofline`).

Counting: the graph's symbolic input dimensions are fixed to the requested values, ONNX Runtime's
symbolic shape inference (`onnxruntime.tools.symbolic_shape_infer`) gives every tensor its concrete
shape, and each matrix product is counted as 2 x (output elements) x (inner dimension): `MatMul`
and `Gemm` (2·M·N·K, batch dimensions included) and `Conv` (the patch embedding: 2 x output
elements x input channels per group x kernel area). Element-wise work (LayerNorm, softmax, GELU,
adds) is not counted; in these transformers it is a few percent of the total, so the achieved
rates are slight underestimates. A node whose shapes stay symbolic is reported, not guessed.

Protocol and output: one JSON object on stdout (or `--out`), `{"graphs": [{"graph", "label",
"dims", "gflop", "uncounted_nodes"}], "matmul": {"n", "gflop"}}`, read by the Java
`RooflineBenchmark` (bench module), which times the same graphs at the same shapes through the
engine's own `Blip2Graphs`.
"""

import argparse
import json
import sys
from pathlib import Path

from shoplens_export.errors import ExportError

# The shapes timed by RooflineBenchmark: label -> (graph file, symbolic dimension values).
# Vision at 1 and 8 images; decoding as the serving workload sees it: a prefill of 8 rows of 42
# positions (32 image positions + a question) with no past, then single-token steps at 1 and 8 rows
# after 42 positions of past.
SHAPES = {
    "vision b1": ("vision.onnx", {"batch": 1}),
    "vision b8": ("vision.onnx", {"batch": 8}),
    "prefill b8 s42": ("decoder.onnx", {"batch": 8, "sequence": 42, "past_sequence": 0, "total_sequence": 42}),
    "step b1 p42": ("decoder.onnx", {"batch": 1, "sequence": 1, "past_sequence": 42, "total_sequence": 43}),
    "step b8 p42": ("decoder.onnx", {"batch": 8, "sequence": 1, "past_sequence": 42, "total_sequence": 43}),
}
MATMUL_N = 2048


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value_info.type.tensor_type.shape.dim]


def count(model, dims):
    """(GFLOP, uncounted node names) of `model` (an onnx ModelProto with weights) with its symbolic
    input dimensions set from `dims` (name -> value)."""
    import onnx
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    model = onnx.ModelProto.FromString(model.SerializeToString())
    for value in model.graph.input:
        for d in value.type.tensor_type.shape.dim:
            if d.dim_param:
                if d.dim_param not in dims:
                    raise ExportError(f"input {value.name}: no value given for dimension {d.dim_param!r}")
                name = d.dim_param
                d.ClearField("dim_param")
                d.dim_value = dims[name]
    inferred = SymbolicShapeInference.infer_shapes(model, auto_merge=True)
    shapes = {v.name: _dims(v) for v in list(inferred.graph.value_info) + list(inferred.graph.input)
              + list(inferred.graph.output)}
    for t in inferred.graph.initializer:
        shapes[t.name] = list(t.dims)

    def known(name):
        s = shapes.get(name)
        return s if s is not None and all(isinstance(x, int) for x in s) else None

    flops, uncounted = 0, []
    for node in inferred.graph.node:
        if node.op_type not in ("MatMul", "Gemm", "Conv"):
            continue
        a, w, out = known(node.input[0]), known(node.input[1]), known(node.output[0])
        if a is None or w is None or out is None:
            uncounted.append(node.name or node.op_type)
            continue
        elements = 1
        for x in out:
            elements *= x
        if node.op_type == "MatMul":
            inner = a[-1]
        elif node.op_type == "Gemm":
            trans_a = next((att.i for att in node.attribute if att.name == "transA"), 0)
            inner = a[0] if trans_a else a[-1]
        else:  # Conv: weight [C_out, C_in / group, k...]
            inner = 1
            for x in w[1:]:
                inner *= x
        flops += 2 * elements * inner
    return flops / 1e9, uncounted


def matmul_graph(path, n=MATMUL_N):
    """Writes a graph computing A[n,n] x B[n,n] (both inputs, float32): 2·n³ FLOP per run."""
    import onnx
    from onnx import TensorProto, helper

    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul", [a, b], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by ONNX Runtime 1.29 (Java)
    onnx.save(model, str(path))
    return 2 * n ** 3 / 1e9


def main(argv=None):
    import onnx

    p = argparse.ArgumentParser(prog="python -m shoplens_export.flops", description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", required=True, type=Path, help="a blip2-opt bundle directory")
    p.add_argument("--matmul-out", type=Path, help="also write the peak-measuring matmul graph here")
    p.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    args = p.parse_args(argv)
    manifest = json.loads((args.bundle / "manifest.json").read_text())
    if manifest.get("architecture") != "blip2-opt":
        raise ExportError(f"{args.bundle}: architecture {manifest.get('architecture')!r}; the roofline counts blip2-opt bundles")
    loaded, graphs = {}, []
    for label, (file, dims) in SHAPES.items():
        if file not in loaded:
            loaded.clear()  # one large graph in memory at a time
            loaded[file] = onnx.load(str(args.bundle / file))
        gflop, uncounted = count(loaded[file], dims)
        graphs.append({"graph": file, "label": label, "dims": dims, "gflop": round(gflop, 6),
                       "uncounted_nodes": uncounted})
        print(f"{label}: {gflop:.3f} GFLOP ({len(uncounted)} uncounted)", file=sys.stderr)
    result = {"bundle": manifest.get("model_version"), "graphs": graphs}
    if args.matmul_out:
        result["matmul"] = {"n": MATMUL_N, "gflop": matmul_graph(args.matmul_out), "file": str(args.matmul_out.resolve())}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        sys.exit(f"error: {e}")
