"""``layerwise export``: a model's weights as safetensors or .npz, or the model as ONNX.

    layerwise export runs/x/best.safetensors --format onnx -o model.onnx --check
    layerwise export resnet18 --num-classes 1000 --input-size 3,224,224 -o resnet18.onnx
    layerwise export resnet18 --weights torch_resnet18.npz -o resnet18.safetensors
"""
import sys
from pathlib import Path

FORMATS = {".onnx": "onnx", ".safetensors": "safetensors", ".npz": "npz"}


def _add_export(sub):
    p = sub.add_parser(
        "export", help="write a model as ONNX, or its weights as safetensors / .npz",
        description="Export a training checkpoint, a weights file (with --model) or a named "
                    "model (random or --weights initialized) as an ONNX graph (runs in "
                    "onnxruntime; needs the onnx package) or as weights in safetensors or "
                    ".npz format with PyTorch's state_dict keys.")
    p.add_argument("source", metavar="CHECKPOINT_OR_MODEL",
                   help="a checkpoint of `layerwise train`, a weights file (.safetensors, "
                        ".npz; give --model), or a model name (see `layerwise summary --list`)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--format", choices=["onnx", "safetensors", "npz"], default=None,
                   help="output format (default: from the output file's extension)")
    p.add_argument("--model", default=None, help="model name, for a plain weights file")
    p.add_argument("--weights", default=None, help="weights to load into a named model")
    p.add_argument("--num-classes", type=int, default=None,
                   help="classes of a named model (default 10, or the checkpoint's)")
    p.add_argument("--input-size", default=None,
                   help="C,H,W of the input (default: the checkpoint's, else 1,28,28); "
                        "ONNX fixes H and W, the batch stays dynamic")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--check", action="store_true",
                   help="ONNX: run the file in onnxruntime and compare with layerwise")
    p.add_argument("--seed", type=int, default=0, help="seed of a random initialization")
    return p


def _output_format(args):
    if args.format:
        return args.format
    fmt = FORMATS.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the format of {args.output!r} from its extension; give "
                         f"--format onnx, safetensors or npz")
    return fmt


def _size(text):
    try:
        size = tuple(int(s) for s in text.split(","))
    except ValueError:
        size = ()
    if len(size) != 3:
        raise ValueError(f"--input-size must be C,H,W (e.g. 3,224,224), got {text!r}")
    return size


def load_model(args):
    """(model, input_size) from the command's source: checkpoint, weights file or name."""
    from ..autograd.random import manual_seed
    from ..io import load_state_dict
    from ..models import get_model
    from ..train.checkpoint import load_checkpoint
    manual_seed(args.seed)
    source = Path(args.source)
    size = _size(args.input_size) if args.input_size else None
    if source.is_file():
        if args.model is None:
            if source.suffix.lower() != ".safetensors":
                raise ValueError(f"{source}: a plain weights file; give --model NAME (and "
                                 f"--num-classes, --input-size) to say which network it holds")
            ckpt = load_checkpoint(source)
            config = ckpt.config
            size = size or (config["in_channels"], config["image_size"], config["image_size"])
            model = get_model(config["model"], num_classes=config["num_classes"],
                              in_channels=config["in_channels"], image_size=config["image_size"])
            model.load_state_dict(ckpt.model_state)
            return model, size
        weights, name = source, args.model
    else:
        weights, name = args.weights, args.source
    size = size or (1, 28, 28)
    model = get_model(name, num_classes=args.num_classes or 10, in_channels=size[0],
                      image_size=size[1])
    if weights is not None:
        model.load_state_dict(load_state_dict(weights))
    return model, size


def cmd_export(args):
    try:
        _export(args)
    except (ImportError, RuntimeError) as err:  # a missing package, a model/weights mismatch
        raise ValueError(str(err)) from err


def _export(args):
    from ..io import check_onnx, export_onnx, save_state_dict
    fmt = _output_format(args)
    model, size = load_model(args)
    count = sum(p.data.size for p in model.parameters())
    name = getattr(model, "name", type(model).__name__)
    if fmt != "onnx":
        path = save_state_dict(model, args.output, format=fmt)
        print(f"wrote {path}: {name} weights ({count:,} parameters, {len(model.state_dict())} "
              f"state_dict entries, PyTorch's keys) as {fmt}")
        return
    path = export_onnx(model, args.output, input_size=size, opset=args.opset)
    import onnx
    nodes = len(onnx.load(str(path), load_external_data=False).graph.node)
    print(f"wrote {path}: {name} as ONNX (opset {args.opset}, {nodes} nodes, {count:,} "
          f"parameters), input 'input' (batch, {', '.join(map(str, size))}), output 'output'")
    if args.check:
        try:
            diff = check_onnx(model, path, input_size=size)
        except ImportError as err:
            print(f"not checked: {err}", file=sys.stderr)
            return
        print(f"onnxruntime agrees with layerwise: max |difference| {diff:.2g} on a random "
              f"batch of 2")


def register(sub):
    """Add ``layerwise export`` to the ``layerwise`` parser."""
    _add_export(sub).set_defaults(func=cmd_export)
