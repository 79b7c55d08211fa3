"""Command line: `python -m shoplens_export export ...` and `python -m shoplens_export fixtures ...`."""

import argparse
import sys

from shoplens_export.errors import ExportError


def _parser():
    p = argparse.ArgumentParser(prog="python -m shoplens_export",
                                description="Export Hugging Face BLIP-2 OPT models to ShopLens model bundles.")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="export a checkpoint or a built-in preset to a model bundle directory")
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=["tiny", "bench"], help="built-in random-weight model")
    src.add_argument("--checkpoint", help="Hugging Face hub id or local checkpoint directory (BLIP-2 OPT)")
    e.add_argument("--out", required=True, help="bundle directory to write (created if missing)")
    e.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    e.add_argument("--seed", type=int, default=None, help="weight seed for presets (default 1234)")
    e.add_argument("--retrieval", action="store_true",
                   help="the model is a Blip2ForImageTextRetrieval (blip2-itm-vit-g): write a retrieval bundle; "
                        "with --preset, the tiny retrieval preset")
    e.add_argument("--external-data", action="store_true",
                   help="store weights in <graph>.onnx.data files even below the 2 GB protobuf limit")
    f = sub.add_parser("fixtures", help="regenerate the tiny test bundle, test images and reference.json")
    f.add_argument("--out", required=True,
                   help="test resources directory (processor/src/test/resources); writes models/ and images/")
    f.add_argument("--seed", type=int, default=None)
    b = sub.add_parser("bench", help="benchmark a bundle on Python ONNX Runtime or the same weights in PyTorch "
                                     "(JSON lines), or print the Markdown table of result files")
    b.add_argument("--bundle", help="bundle directory (the bench preset)")
    b.add_argument("--impl", choices=["ort", "torch"], help="Python ONNX Runtime loop, or Hugging Face in PyTorch")
    b.add_argument("--batches", default="1,4,8")
    b.add_argument("--max-new-tokens", type=int, default=16)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--reps", type=int, default=3)
    b.add_argument("--threads", type=int, default=2, help="intra-op threads (inter-op is 1)")
    b.add_argument("--table", nargs="+", metavar="FILE", help="print the Markdown table of these JSON-lines files")
    c = sub.add_parser("cuda-check", help="check ONNX Runtime's CUDA provider against the CPU on a bundle")
    c.add_argument("--bundle", required=True, help="bundle directory with reference.json (the tiny test bundle)")
    c.add_argument("--steps", type=int, default=20, help="decoder steps timed per past length")
    c.add_argument("--dry-run-on-cpu", action="store_true",
                   help="test the check itself without a GPU: the CPU provider stands in for CUDA")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            from shoplens_export import export, presets, sources

            export.check_output_dir(args.out)
            if args.retrieval:
                from shoplens_export import retrieval

                return retrieval.main(args)
            if args.preset:
                seed = presets.DEFAULT_SEED if args.seed is None else args.seed
                model, _, tokenizer_json, info = presets.source(presets.get(args.preset), seed)
            else:
                if args.seed is not None:
                    raise ExportError("--seed only applies to --preset (a checkpoint has its own weights)")
                model, _, tokenizer_json, info = sources.checkpoint(args.checkpoint)
            manifest = export.export_model(model, tokenizer_json, info, args.out, dtype=args.dtype,
                                           external_data=args.external_data)
            print(f"wrote {args.out}: {manifest['model_version']} ({manifest['dtype']}, "
                  f"{sum(f['bytes'] for f in manifest['files'].values())} bytes)")
        elif args.command == "bench":
            from shoplens_export import bench

            return bench.main(args)
        elif args.command == "cuda-check":
            from shoplens_export import cuda_check

            return cuda_check.main(args)
        else:
            from shoplens_export import fixtures, presets, retrieval

            fixtures.generate(args.out, presets.DEFAULT_SEED if args.seed is None else args.seed)
            retrieval.generate_fixtures(args.out, retrieval.DEFAULT_SEED if args.seed is None else args.seed)
        return 0
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
