"""``layerwise generate CHECKPOINT --prompt "..."``: stream text sampled from a language model.

Works with the checkpoints of ``layerwise train --model char-lstm``: the vocabulary
is read from the checkpoint's configuration, the prompt is fed through the model, then
``--length`` tokens are drawn one by one (``--temperature``, ``--top-k``, ``--seed``)
and printed as they come.
"""
import sys
from pathlib import Path


def _add_generate(sub):
    p = sub.add_parser("generate", help="stream text sampled from a char-lstm checkpoint",
                       description="Continue a prompt with text sampled from a language model "
                                   "trained by `layerwise train --model char-lstm`, printing "
                                   "each character (or word) as it is drawn.")
    p.add_argument("checkpoint", help="a .safetensors checkpoint (or its run directory)")
    p.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    p.add_argument("--length", type=int, default=300,
                   help="number of characters (words) to generate (default 300)")
    p.add_argument("--temperature", type=float, default=0.8,
                   help="< 1 safer, > 1 wilder, 0 greedy (default 0.8)")
    p.add_argument("--top-k", type=int, default=0,
                   help="draw only among the k most likely tokens (default 0: all)")
    p.add_argument("--seed", type=int, default=None, help="random seed for a repeatable sample")
    return p


LANGUAGE_MODELS = ("char-lstm",)


def load_language_model(path):
    """(model in eval mode, vocabulary, config) of a language-model checkpoint."""
    from ..io import CheckpointError
    from ..models.sequence import build_sequence_model
    from ..text import vocab_from_dict
    from ..train.checkpoint import load_checkpoint
    path = Path(path)
    if path.is_dir():
        path = path / ("best.safetensors" if (path / "best.safetensors").is_file()
                       else "last.safetensors")
    if not path.is_file():
        raise ValueError(f"no such checkpoint: {str(path)!r}")
    ckpt = load_checkpoint(path)
    name = ckpt.config.get("model")
    if name not in LANGUAGE_MODELS or "vocab" not in ckpt.config:
        raise CheckpointError(f"{path}: model {name!r} does not generate text; `layerwise "
                              f"generate` needs a checkpoint of {', '.join(LANGUAGE_MODELS)}")
    model = build_sequence_model(ckpt.config)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return model, vocab_from_dict(ckpt.config["vocab"]), ckpt.config


def cmd_generate(args, stream=None):
    from ..models.text_generation import generate
    stream = stream or sys.stdout
    model, vocab, _ = load_language_model(args.checkpoint)
    stream.write(args.prompt)
    for piece in generate(model, vocab, args.prompt, args.length, args.temperature,
                          args.top_k or None, args.seed):
        stream.write(piece)
        stream.flush()
    stream.write("\n")


def register(sub):
    """Add this module's subcommands to the ``layerwise`` parser."""
    _add_generate(sub).set_defaults(func=cmd_generate)
