"""``layerwise report RUN_DIR``: one self-contained HTML page for a training run."""


def _add_report(sub):
    p = sub.add_parser("report", help="write the HTML report of a training run",
                       description="Write RUN_DIR/report.html: results, configuration, model "
                                   "summary, training curves, confusion matrix, filters, "
                                   "feature maps, saliency, receptive fields and the most "
                                   "confidently wrong test images, all in one file that opens "
                                   "offline. `layerwise train` writes it at the end of every run.")
    p.add_argument("run_dir", help="the run directory written by `layerwise train`")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint to describe (default: RUN_DIR/last.safetensors, else best)")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")
    p.add_argument("--example", type=int, default=0,
                   help="index of the test image shown in feature maps and saliency (default 0)")
    p.add_argument("-o", "--out", default=None, help="output file (default RUN_DIR/report.html)")
    p.set_defaults(func=cmd_report)
    return p


def cmd_report(args):
    from ..viz.report import write_report
    path = write_report(args.run_dir, checkpoint=args.checkpoint, data_dir=args.data_dir,
                        example_index=args.example, out=args.out)
    print(f"report: {path}")


def register(sub):
    """Add this module's subcommands to the ``layerwise`` parser."""
    _add_report(sub)
