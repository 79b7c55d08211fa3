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
    src.add_argument("--preset", choices=["tiny", "bench", "fashion", "tiny-t5"], help="built-in random-weight model")
    src.add_argument("--checkpoint", help="Hugging Face hub id or local checkpoint directory (BLIP-2 OPT)")
    e.add_argument("--out", required=True, help="bundle directory to write (created if missing)")
    e.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    e.add_argument("--seed", type=int, default=None, help="weight seed for presets (default 1234)")
    e.add_argument("--retrieval", action="store_true",
                   help="the model is a Blip2ForImageTextRetrieval (blip2-itm-vit-g): write a retrieval bundle; "
                        "with --preset, the tiny retrieval preset")
    e.add_argument("--vision-from", default=None, metavar="GENERATION",
                   help="with --retrieval: copy the vision tower of this generation model (a preset: tiny, bench, "
                        "fashion, tiny-t5, built with its default seed as `export --preset NAME` builds it; or a BLIP-2 "
                        "generation checkpoint directory) into the retrieval "
                        "model before export, so that the two bundles share one tower pass per image")
    e.add_argument("--external-data", action="store_true",
                   help="store weights in <graph>.onnx.data files even below the 2 GB protobuf limit")
    e.add_argument("--model-id", default=None,
                   help="model_id for the manifest (and the model_version name) instead of the checkpoint path")
    e.add_argument("--quantize", choices=["int8"], default=None,
                   help="ONNX Runtime dynamic int8 quantization of the MatMuls in vision.onnx and decoder.onnx")
    cat = sub.add_parser("catalog", help="write a deterministic synthetic fashion catalog (images + products.jsonl)")
    cat.add_argument("--out", required=True)
    cat.add_argument("--products", type=int, required=True)
    cat.add_argument("--seed", type=int, default=0)
    cat.add_argument("--image-size", type=int, default=96)
    d = sub.add_parser("dataset", help="build a training set (images + qa.jsonl + dataset.json) from a catalog")
    d.add_argument("--catalog", required=True, help="catalog directory: products.jsonl + images")
    d.add_argument("--out", required=True)
    d.add_argument("--curated", nargs="*", default=[], metavar="FILE.jsonl",
                   help="extra rows in the qa.jsonl format (image paths relative to the file)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--val-fraction", type=float, default=0.1)
    d.add_argument("--test-fraction", type=float, default=0.1)
    d.add_argument("--only-split", choices=["train", "val", "test"], help="keep only this split's products")
    d.add_argument("--max-products", type=int, help="keep at most this many products (first ids)")
    ft = sub.add_parser("finetune", help="fine-tune BLIP-2 OPT on a dataset (BLIP-2 recipe or everything)")
    ft.add_argument("--base", required=True, help="preset (tiny, bench, fashion) or BLIP-2 OPT checkpoint directory")
    ft.add_argument("--data", required=True, help="dataset directory (qa.jsonl)")
    ft.add_argument("--out", required=True, help="checkpoint directory to write (save_pretrained)")
    ft.add_argument("--train", choices=["qformer", "all"], default="qformer",
                    help="qformer: BLIP-2's recipe (vision and LM frozen); all: every weight")
    ft.add_argument("--epochs", type=int, default=3)
    ft.add_argument("--vision-epochs", type=int, default=0,
                    help="with --train all: first train the vision tower alone for this many epochs on the dataset's "
                         "category, colour and pattern labels (a from-scratch model's stand-in for a pre-trained tower)")
    ft.add_argument("--history-fraction", type=float, default=0.0,
                    help="share of question rows trained as a follow-up: one earlier question and answer about the "
                         "same image in the prompt, as the engine builds conversations (0 to 1)")
    ft.add_argument("--freeze-vision", action="store_true",
                    help="keep the vision tower frozen while the rest trains (implied by --train qformer); each image is "
                         "then encoded once")
    ft.add_argument("--batch-size", type=int, default=32)
    ft.add_argument("--rows-per-image", type=int, default=4,
                    help="questions about one image per batch group: the image is encoded once for all of them")
    ft.add_argument("--one-phrasing", action="store_true",
                    help="each epoch: one random phrasing per (image, question type), an image's rows in one group")
    ft.add_argument("--lr", type=float, default=None, help="peak learning rate (default 1e-4 qformer, 1e-3 all)")
    ft.add_argument("--weight-decay", type=float, default=0.05)
    ft.add_argument("--warmup-steps", type=int, default=100)
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--resume", action="store_true", help="continue from OUT/training-state.pt (saved each epoch)")
    ft.add_argument("--keep-state", action="store_true", help="keep training-state.pt after the last epoch")
    ft.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    ft.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ft.add_argument("--max-train-rows", type=int, default=None, help="train on a seeded sample of this many rows")
    ft.add_argument("--val-loss-rows", type=int, default=512, help="val rows the loss is computed on each epoch")
    ft.add_argument("--val-samples", type=int, default=140, help="val rows answered by greedy generation each epoch")
    ft.add_argument("--log-every", type=int, default=20)
    fr = sub.add_parser("finetune-retrieval",
                        help="train a BLIP-2 retrieval model (ITC + ITM) on a dataset's products, on the frozen vision "
                             "tower of a trained generation checkpoint")
    fr.add_argument("--generation", required=True,
                    help="`finetune` checkpoint directory whose vision tower is copied and kept frozen")
    fr.add_argument("--data", required=True, help="dataset directory (qa.jsonl + products.jsonl)")
    fr.add_argument("--out", required=True, help="checkpoint directory to write (save_pretrained)")
    fr.add_argument("--size", choices=["fashion", "tiny"], default="fashion", help="Q-Former size")
    fr.add_argument("--epochs", type=int, default=20)
    fr.add_argument("--batch-size", type=int, default=128)
    fr.add_argument("--lr", type=float, default=5e-4)
    fr.add_argument("--itm-rows", type=int, default=None,
                    help="rows of each batch whose ITM pairs (one match, two hard negatives) are trained; default all")
    fr.add_argument("--weight-decay", type=float, default=0.05)
    fr.add_argument("--warmup-steps", type=int, default=100)
    fr.add_argument("--seed", type=int, default=0)
    fr.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    fr.add_argument("--max-products", type=int, default=None, help="train on the first N train products")
    fr.add_argument("--val-products", type=int, default=500, help="val products measured after each epoch")
    fr.add_argument("--log-every", type=int, default=20)
    er = sub.add_parser("evaluate-retrieval",
                        help="held-out text->product and image->product ranking of a retrieval bundle (ONNX Runtime)")
    er.add_argument("--bundle", required=True)
    er.add_argument("--data", required=True)
    er.add_argument("--split", default="test")
    er.add_argument("--limit", type=int, default=None, help="at most this many products (first ones)")
    er.add_argument("--report", help="write the result as JSON here (and Markdown beside it)")
    ev = sub.add_parser("evaluate", help="accuracy of a bundle on a dataset split, through ONNX Runtime (runtime.py)")
    ev.add_argument("--bundle", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--split", default="test")
    ev.add_argument("--limit", type=int, default=None, help="at most this many rows (stratified by type)")
    ev.add_argument("--report", help="write the result as JSON here")
    f = sub.add_parser("fixtures", help="regenerate the tiny test bundle, test images and reference.json")
    f.add_argument("--out", required=True,
                   help="test resources directory (processor/src/test/resources); writes models/ and images/")
    f.add_argument("--seed", type=int, default=None)
    sf = sub.add_parser("salesforce-shaped",
                        help="write a checkpoint directory laid out like Salesforce/blip2-opt-* (real config, "
                             "tokenizer files and widths; random weights, 1-2 layers per stack), the Hugging Face "
                             "reference tokens, and its float32 bundle exported through `export --checkpoint`")
    sf.add_argument("--out", required=True,
                    help="writes OUT/checkpoint, OUT/images, OUT/reference.json, OUT/bundle-<dtype> per --dtypes")
    sf.add_argument("--shape", choices=["blip2-opt-2.7b", "blip2-opt-6.7b"], default="blip2-opt-2.7b")
    sf.add_argument("--seed", type=int, default=None)
    sf.add_argument("--dtypes", default="float32",
                    help="comma-separated bundle dtypes to export (float32,float16); empty: the checkpoint and "
                         "reference only")
    sf.add_argument("--if-stale", action="store_true",
                    help="do nothing when OUT was built by this exporter version (OUT/BUILT)")
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
            if args.vision_from and not args.retrieval:
                raise ExportError("--vision-from only applies to --retrieval (a generation bundle keeps its own tower)")
            if args.retrieval:
                from shoplens_export import retrieval

                return retrieval.main(args)
            if args.preset == "tiny-t5":
                from shoplens_export import presets_t5

                seed = presets.DEFAULT_SEED if args.seed is None else args.seed
                model, _, tokenizer_json, info = presets_t5.source(seed)
            elif args.preset:
                seed = presets.DEFAULT_SEED if args.seed is None else args.seed
                model, _, tokenizer_json, info = presets.source(presets.get(args.preset), seed)
            else:
                if args.seed is not None:
                    raise ExportError("--seed only applies to --preset (a checkpoint has its own weights)")
                model, _, tokenizer_json, info = sources.checkpoint(args.checkpoint)
                if args.model_id:
                    info.update(model_id=args.model_id, name=args.model_id.rstrip("/").split("/")[-1])
            manifest = export.export_model(model, tokenizer_json, info, args.out, dtype=args.dtype,
                                           external_data=args.external_data, quantize=args.quantize)
            print(f"wrote {args.out}: {manifest['model_version']} ({manifest['dtype']}, "
                  f"{sum(f['bytes'] for f in manifest['files'].values())} bytes)")
        elif args.command == "catalog":
            from shoplens_export import catalog

            meta = catalog.generate(args.out, args.products, args.seed, args.image_size)
            print(f"wrote {args.out}: {meta['products']} products")
        elif args.command == "dataset":
            from shoplens_export import dataset

            dataset.build(args.catalog, args.out, seed=args.seed, val_fraction=args.val_fraction,
                          test_fraction=args.test_fraction, curated=args.curated, only_split=args.only_split,
                          max_products=args.max_products)
        elif args.command == "finetune":
            from shoplens_export import finetune

            finetune.run(args)
        elif args.command == "finetune-retrieval":
            from shoplens_export import finetune_retrieval

            finetune_retrieval.run(args)
        elif args.command == "evaluate-retrieval":
            from shoplens_export import finetune_retrieval

            report = finetune_retrieval.evaluate_bundle(args.bundle, args.data, args.split, args.limit)
            if args.report:
                finetune_retrieval.write_eval_report(report, args.report)
            t, i = report["text_to_product"]["all"], report["image_to_product"]
            print(f"{report['bundle']} on {report['products']} {args.split} products, {report['queries']} queries: "
                  f"text->product recall@1 {t['recall@1']:.3f}, recall@10 {t['recall@10']:.3f}, precision@10 "
                  f"{t['precision@10']:.3f}; image->same kind precision@5 {i['same_kind_precision@5']:.3f}")
        elif args.command == "evaluate":
            from shoplens_export import evaluate

            evaluate.main(args)
        elif args.command == "salesforce-shaped":
            from shoplens_export import salesforce_shaped

            dtypes = tuple(d for d in args.dtypes.split(",") if d)
            unknown = set(dtypes) - {"float32", "float16"}
            if unknown:
                raise ExportError(f"--dtypes {args.dtypes}: unknown {sorted(unknown)}; expected float32, float16")
            if args.if_stale and salesforce_shaped.is_fresh(args.out, dtypes, args.shape, args.seed):
                print(f"{args.out}: up to date")
                return 0
            salesforce_shaped.build(args.out, shape=args.shape, seed=args.seed, dtypes=dtypes)
            print(f"wrote {args.out}: Salesforce/{args.shape}-shaped checkpoint, reference.json"
                  + "".join(f", bundle-{d}" for d in dtypes))
        elif args.command == "bench":
            from shoplens_export import bench

            return bench.main(args)
        elif args.command == "cuda-check":
            from shoplens_export import cuda_check

            return cuda_check.main(args)
        else:
            from shoplens_export import fixtures, presets, retrieval

            fixtures.generate(args.out, presets.DEFAULT_SEED if args.seed is None else args.seed)
            from shoplens_export import fixtures_fp16

            fixtures_fp16.generate(args.out, presets.DEFAULT_SEED if args.seed is None else args.seed)
            from shoplens_export import fixtures_t5

            fixtures_t5.generate(args.out, presets.DEFAULT_SEED if args.seed is None else args.seed)
            retrieval.generate_fixtures(args.out, retrieval.DEFAULT_SEED if args.seed is None else args.seed)
        return 0
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
