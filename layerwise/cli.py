"""The ``layerwise`` command.

    layerwise train --model seed003-cnn --dataset fashion-mnist --epochs 5
    layerwise evaluate runs/<run>/best.safetensors
    layerwise predict runs/<run>/best.safetensors shoe.png
    layerwise summary seed003-cnn

Each module of ``layerwise.commands`` adds its subcommands (a ``register(subparsers)``
function); this file only builds the parser and turns known errors into one line.
"""
import argparse
import importlib
import pkgutil
import sys

from . import commands


USAGE = """A deep learning framework on NumPy. Examples:

    layerwise train --model seed003-cnn --dataset fashion-mnist --epochs 5
    layerwise evaluate runs/<run>/best.safetensors
    layerwise predict runs/<run>/best.safetensors shoe.png
    layerwise summary seed003-cnn

`layerwise COMMAND --help` describes each command."""


def build_parser():
    parser = argparse.ArgumentParser(prog="layerwise", description=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def _known_errors():
    from .data import CorruptFileError, DatasetNotFoundError
    from .io import CheckpointError
    from .train.callbacks import TrainingDiverged
    return (DatasetNotFoundError, CorruptFileError, CheckpointError, TrainingDiverged,
            KeyError, ValueError)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted: the checkpoints written so far are intact", file=sys.stderr)
        return 130
    except _known_errors() as err:  # a clear one-line message, not a trace
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"layerwise {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
