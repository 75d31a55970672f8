"""Looking inside a trained model: ``layerwise filters | feature-maps | saliency |
receptive-field | mistakes | curves | confusion``.

Each takes a checkpoint written by ``layerwise train`` (or a run directory), writes
its pictures (by default into a ``viz/`` folder beside the checkpoint) and prints
their paths. IMAGE is an image file, or ``test:N`` for the N-th test image.
"""
from pathlib import Path

import numpy as np


def _checkpoint_arg(p):
    p.add_argument("checkpoint", help="a checkpoint (runs/x/last.safetensors) or a run directory")


def _out_arg(p, what):
    p.add_argument("-o", "--out", default=None,
                   help=f"{what} (default: in a viz/ folder beside the checkpoint)")


def _image_args(p):
    p.add_argument("image", help="an image file, or test:N for the N-th test image")
    p.add_argument("--invert", default="auto", choices=["auto", "yes", "no"],
                   help="invert grey levels of an image file ('auto': when its border is light)")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")


def _add_parsers(sub):
    p = sub.add_parser("filters", help="draw a trained model's first-layer filters",
                       description="A grid of the filters of the first conv layer (or --layer).")
    _checkpoint_arg(p)
    _out_arg(p, "output PNG")
    p.add_argument("--layer", default=None, help="conv layer name (see `layerwise summary`)")
    p.add_argument("--max", type=int, default=64, help="draw at most this many filters")
    p.set_defaults(func=cmd_filters)

    p = sub.add_parser("feature-maps", help="the feature maps of every conv layer for an image",
                       description="One PNG per conv layer: its output maps for one image.")
    _checkpoint_arg(p)
    _image_args(p)
    _out_arg(p, "output directory")
    p.add_argument("--max", type=int, default=64, help="draw at most this many maps per layer")
    p.set_defaults(func=cmd_feature_maps)

    p = sub.add_parser("saliency", help="saliency map (and Grad-CAM) of an image",
                       description="The gradient of a class score with respect to the input "
                                   "pixels; with --gradcam also Grad-CAM on a conv layer.")
    _checkpoint_arg(p)
    _image_args(p)
    _out_arg(p, "output PNG")
    p.add_argument("--gradcam", action="store_true", help="add Grad-CAM")
    p.add_argument("--layer", default=None, help="Grad-CAM's conv layer (default: the last)")
    p.add_argument("--target", default=None,
                   help="class to explain, a name or an index (default: the predicted class)")
    p.set_defaults(func=cmd_saliency)

    p = sub.add_parser("receptive-field", help="the receptive field of each layer",
                       description="A table of each conv/pool layer's kernel, stride, padding, "
                                   "output size, jump and receptive field in input pixels.")
    p.add_argument("model", help="a model name (see `layerwise summary --list`) or a checkpoint")
    p.add_argument("--input-size", default=None, help="C,H,W (default 1,28,28 or the run's)")
    p.add_argument("-o", "--out", default=None, help="also write the table to this text file")
    p.set_defaults(func=cmd_receptive_field)

    p = sub.add_parser("mistakes", help="the most confidently wrong test images",
                       description="A grid of the test images the model gets wrong with the "
                                   "highest confidence.")
    _checkpoint_arg(p)
    _out_arg(p, "output PNG")
    p.add_argument("--count", type=int, default=16, help="how many images (default 16)")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")
    p.set_defaults(func=cmd_mistakes)

    p = sub.add_parser("curves", help="training curves stored in a checkpoint",
                       description="Loss and accuracy per epoch from the checkpoint's history.")
    _checkpoint_arg(p)
    _out_arg(p, "output PNG")
    p.set_defaults(func=cmd_curves)

    p = sub.add_parser("confusion", help="confusion matrix of a checkpoint on its test set",
                       description="Counts of true class (rows) against predicted class.")
    _checkpoint_arg(p)
    _out_arg(p, "output PNG")
    p.add_argument("--data-dir", default=None, help="directory holding the dataset files")
    p.set_defaults(func=cmd_confusion)


def _default_path(run, name):
    directory = run.path.parent / "viz"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def _out(args, run, name):
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        return Path(args.out)
    return _default_path(run, name)


def _input_image(args, run):
    """(model input (C, H, W), picture to show, true label or None, short name)."""
    from ..viz.run_files import load_test_set
    from .training import load_image
    if args.image.startswith("test:"):
        try:
            index = int(args.image[5:])
        except ValueError:
            raise ValueError(f"expected test:N with N a number, got {args.image!r}") from None
        test_set = load_test_set(run.config, args.data_dir)
        if not 0 <= index < len(test_set):
            raise ValueError(f"test:{index}: the test set has {len(test_set)} images")
        raw = getattr(test_set, "raw_images", None)
        shown = raw[index] if raw is not None and raw.ndim == 3 else test_set.images[index]
        return test_set.images[index], shown, int(test_set.labels[index]), f"test{index}"
    path = Path(args.image)
    if not path.is_file():
        raise ValueError(f"no such image file: {args.image!r} (or use test:N)")
    config = run.config
    try:
        pixels = load_image(path, config["in_channels"], config["image_size"], args.invert)
    except OSError as err:
        raise ValueError(f"cannot read {args.image!r} as an image: {err}") from None
    return run.normalizer(pixels[None])[0], pixels, None, path.stem


def cmd_filters(args):
    from ..viz.filters import plot_filters
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    saved = plot_filters(run.model, _out(args, run, "filters.png"), args.layer, args.max)
    print(f"filters ({saved.panels}): {saved.path}")


def cmd_feature_maps(args):
    from ..viz.feature_maps import plot_feature_maps
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    image, shown, _, name = _input_image(args, run)
    directory = Path(args.out) if args.out else run.path.parent / "viz"
    for saved in plot_feature_maps(run.model, image, directory, f"feature_maps_{name}",
                                   args.max, shown):
        print(f"feature maps ({saved.panels}): {saved.path}")


def _target(text, classes):
    if text is None:
        return None
    if classes and text in classes:
        return list(classes).index(text)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--target {text!r}: not a class index or one of "
                         f"{', '.join(classes or [])}") from None


def cmd_saliency(args):
    from ..viz.saliency import grad_cam, plot_saliency, saliency_map
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    image, shown, label, name = _input_image(args, run)
    target = _target(args.target, run.classes)
    maps = [saliency_map(run.model, image, target)]
    if args.gradcam:
        maps.append(grad_cam(run.model, image, target, args.layer))
    path = _out(args, run, f"saliency_{name}.png")
    plot_saliency(image, maps, path, run.classes, label, shown)
    probabilities = maps[0].probabilities
    top = int(np.argmax(probabilities))
    classes = run.classes or [str(i) for i in range(len(probabilities))]
    print(f"predicted {classes[top]} ({probabilities[top]:.1%}); explained class "
          f"{classes[maps[0].target]}")
    print(f"saliency{' and Grad-CAM' if args.gradcam else ''}: {path}")


def cmd_receptive_field(args):
    from ..models import get_model
    from ..viz.receptive_field import format_receptive_fields, receptive_fields
    from ..viz.run_files import input_size, load_run
    size = tuple(int(s) for s in args.input_size.split(",")) if args.input_size else None
    if size is not None and len(size) != 3:
        raise ValueError(f"--input-size: expected C,H,W, got {args.input_size!r}")
    if args.model.endswith(".safetensors") or Path(args.model).is_dir():
        run = load_run(args.model)
        model, size = run.model, size or input_size(run.config)
    else:
        size = size or (1, 28, 28)
        model = get_model(args.model, in_channels=size[0], image_size=size[1])
    table = format_receptive_fields(receptive_fields(model, size))
    print(f"Receptive fields of {getattr(model, 'name', type(model).__name__)} for "
          f"{size[0]}x{size[1]}x{size[2]} inputs\n{table}")
    if args.out:
        Path(args.out).write_text(table + "\n")
        print(f"table: {args.out}")


def _predictions(run, data_dir):
    from ..train.trainer import predict
    from ..viz.run_files import load_test_set
    test_set = load_test_set(run.config, data_dir)
    return test_set, predict(run.model, test_set.images, batch_size=512)


def cmd_mistakes(args):
    from ..viz.mistakes import plot_mistakes, softmax
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    test_set, logits = _predictions(run, args.data_dir)
    raw = getattr(test_set, "raw_images", None)
    images = raw if raw is not None and raw.ndim == 3 else test_set.images
    saved = plot_mistakes(images, test_set.labels, softmax(logits), _out(args, run, "mistakes.png"),
                          run.classes, args.count)
    print(f"mistakes ({saved.panels}): {saved.path}")


def cmd_curves(args):
    from ..viz.curves import plot_history
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    if not run.history:
        raise ValueError(f"{run.path}: the checkpoint holds no training history")
    path = _out(args, run, "curves.png")
    plot_history(run.history, path, title=f"{run.config['model']} on {run.config['dataset']}")
    print(f"curves: {path}")


def cmd_confusion(args):
    from ..train.metrics import confusion_matrix
    from ..viz.confusion import plot_confusion_matrix
    from ..viz.run_files import load_run
    run = load_run(args.checkpoint)
    test_set, logits = _predictions(run, args.data_dir)
    matrix = confusion_matrix(logits.argmax(axis=1), test_set.labels, run.config["num_classes"])
    path = _out(args, run, "confusion_matrix.png")
    plot_confusion_matrix(matrix, run.classes, path)
    print(f"confusion matrix: {path}")


def register(sub):
    """Add this module's subcommands to the ``layerwise`` parser."""
    _add_parsers(sub)
