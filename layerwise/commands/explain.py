"""``layerwise explain conv|pool`` and ``layerwise kernels``: convolution and pooling by hand."""
from pathlib import Path


def _matrix_source(p, name, help_text):
    p.add_argument(f"--{name}", default=None, metavar="ROWS",
                   help=f"{help_text}, rows split by ';' (e.g. \"1 2 3; 4 5 6; 7 8 9\")")
    p.add_argument(f"--{name}-file", default=None, metavar="FILE",
                   help=f"read the {name} from a text file (one row per line, entries split "
                        f"by spaces or commas)")


def _common(p, stride_default, stride_help):
    p.add_argument("--example", choices=["course"], default=None,
                   help="the course's worked example (the default when no --input is given)")
    p.add_argument("--stride", default=stride_default,
                   help=f"step of the window: an int or 'h,w' ({stride_help})")
    p.add_argument("--png", default=None, metavar="PATH",
                   help="also draw every step on one PNG contact sheet")
    p.add_argument("--gif", default=None, metavar="PATH",
                   help="also write an animated GIF, one frame per step")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="show only the first N steps in the text and pictures (all are "
                        "still checked; pictures show at most 64 (PNG) / 100 (GIF) by default)")


def _add_explain(sub):
    p = sub.add_parser("explain", help="show a convolution or pooling step by step",
                       description="Print each step of a convolution or pooling the way it "
                                   "is worked by hand: the window marked in the input, the "
                                   "element-wise products, their sum, the output filling in, "
                                   "and the output-size formula with its numbers. The values "
                                   "come from F.conv2d / F.max_pool2d themselves.")
    ops = p.add_subparsers(dest="operation", required=True, metavar="OPERATION")
    conv = ops.add_parser("conv", help="2-D convolution (cross-correlation) of one matrix",
                          description="Convolution step by step, e.g. layerwise explain conv "
                                      "--input \"1 2 3; 4 5 6; 7 8 9\" --kernel \"1 0; 0 -1\" "
                                      "or layerwise explain conv --example course --gif c.gif")
    _matrix_source(conv, "input", "the input matrix")
    _matrix_source(conv, "kernel", "the kernel (filter)")
    conv.add_argument("--padding", default="0",
                      help="zeros around the input: an int, 'h,w', 'same' or 'valid' (default 0)")
    conv.add_argument("--bias", type=float, default=0.0, help="added to every sum (default 0)")
    _common(conv, "1", "default 1")
    conv.set_defaults(func=cmd_explain)
    pool = ops.add_parser("pool", help="max, average or sum pooling of one matrix",
                          description="Pooling step by step, e.g. layerwise explain pool "
                                      "--example course --mode max")
    _matrix_source(pool, "input", "the input matrix")
    pool.add_argument("--size", type=int, default=2, help="window size (default 2)")
    pool.add_argument("--padding", default="0",
                      help="padding, at most half the window: an int or 'h,w' (default 0)")
    pool.add_argument("--mode", choices=["max", "avg", "sum"], default="max",
                      help="max (default), avg (mean) or sum")
    _common(pool, None, "default: the window size")
    pool.set_defaults(func=cmd_explain)
    return p


def _ints(text, name):
    if text in ("same", "valid"):
        if name != "padding":
            raise ValueError(f"--{name}: expected an int or 'h,w', got {text!r}")
        return text
    try:
        values = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise ValueError(f"--{name}: expected an int or 'h,w', got {text!r}") from None
    if len(values) not in (1, 2):
        raise ValueError(f"--{name}: expected an int or 'h,w', got {text!r}")
    return values[0] if len(values) == 1 else values


def _read(args, name):
    from ..viz.explain import parse_matrix, read_matrix_file
    text, path = getattr(args, name), getattr(args, f"{name}_file")
    if text is not None and path is not None:
        raise ValueError(f"give --{name} or --{name}-file, not both")
    if path is not None:
        return read_matrix_file(path, f"--{name}-file {path}")
    return None if text is None else parse_matrix(text, f"--{name}")


def _explanation(args):
    from ..viz.explain import EXAMPLES, explain_conv, explain_pool
    matrix = _read(args, "input")
    kernel = _read(args, "kernel") if args.operation == "conv" else None
    note = ""
    if args.example and matrix is not None:
        raise ValueError("give --example or --input, not both")
    if matrix is None:
        example, size_or_kernel, note = EXAMPLES[args.operation][args.example or "course"]
        matrix = example
        if args.operation == "conv" and kernel is None:
            kernel = size_or_kernel
        elif args.operation == "conv":
            note = ""  # the course's input with the user's kernel
    stride = None if args.stride is None else _ints(args.stride, "stride")
    padding = _ints(args.padding, "padding")
    if args.operation == "conv":
        if kernel is None:
            raise ValueError("explain conv needs a kernel: --kernel \"1 0; 0 1\" or "
                             "--kernel-file FILE")
        return explain_conv(matrix, kernel, stride, padding, args.bias, note)
    if isinstance(padding, str):
        raise ValueError("explain pool: padding must be an int or 'h,w'")
    return explain_pool(matrix, args.size, stride, padding, args.mode, note)


def cmd_explain(args):
    from ..viz.explain import format_explanation
    if args.steps is not None and args.steps < 0:
        raise ValueError(f"--steps must be 0 or more, got {args.steps}")
    explanation = _explanation(args)
    print(format_explanation(explanation, args.steps))
    if args.png or args.gif:
        from ..viz.explain_render import save_explanation_gif, save_explanation_png
        limit = {"max_steps": args.steps} if args.steps else {}
        if args.png:
            print(f"steps drawn: {save_explanation_png(explanation, args.png, **limit)}")
        if args.gif:
            print(f"animation:   {save_explanation_gif(explanation, args.gif, **limit)}")


def _add_kernels(sub):
    p = sub.add_parser("kernels", help="apply the classic kernels (edges, blur, Sobel) to an image",
                       description="Convolve an image with the classic 3x3 kernels (identity, "
                                   "two edge detectors, Laplacian, sharpen, box and Gaussian "
                                   "blur, Sobel x and y) using F.conv2d, and save a labelled "
                                   "grid with the 'same' and 'valid' output sizes.")
    p.add_argument("image", nargs="?", help="an image file (PNG, JPEG, ...); shown in grey")
    p.add_argument("-o", "--out", default=None,
                   help="output PNG (default IMAGE-NAME_kernels.png in the current directory)")
    p.add_argument("--kernels", default=None,
                   help="comma-separated subset of the kernels (default: all; see --list)")
    p.add_argument("--max-side", type=int, default=512,
                   help="shrink larger images to this many pixels on their longer side")
    p.add_argument("--list", action="store_true", help="print the kernels and their values")
    p.set_defaults(func=cmd_kernels)
    return p


def cmd_kernels(args):
    from ..viz.kernels import CLASSIC_KERNELS, classic_kernel, load_grey_image, plot_kernel_grid
    from ..viz.explain import format_number
    if args.list:
        for name, (title, _, _) in CLASSIC_KERNELS.items():
            rows = ["  " + " ".join(f"{format_number(v):>7}" for v in row)
                    for row in classic_kernel(name)]
            print(f"{name}: {title}\n" + "\n".join(rows))
        return
    if not args.image:
        raise ValueError("give an image file (or --list to see the kernels)")
    names = None if not args.kernels else [n.strip() for n in args.kernels.split(",") if n.strip()]
    image = load_grey_image(args.image, args.max_side)
    out = args.out or f"{Path(args.image).stem}_kernels.png"
    plot_kernel_grid(image, out, names, title=f"Classic kernels on {Path(args.image).name}")
    print(f"kernels: {out}")


def register(sub):
    """Add this module's subcommands to the ``layerwise`` parser."""
    _add_explain(sub)
    _add_kernels(sub)
