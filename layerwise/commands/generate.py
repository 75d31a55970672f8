"""``layerwise generate CHECKPOINT --prompt "..."``: stream text sampled from a language model.

Works with the checkpoints of ``layerwise train --model char-lstm`` and ``--model
gpt-mini``, and with a Hugging Face GPT-2 directory (config.json, model.safetensors,
vocab.json, merges.txt): the vocabulary or tokenizer is read from the checkpoint, the
prompt is fed through the model, then ``--length`` tokens are drawn one by one
(``--temperature``, ``--top-k``, ``--top-p``, ``--seed``; temperature 0 is greedy) and
printed as they come. Transformers keep a key/value cache (``--no-cache`` re-runs the
whole prefix at every step instead).
"""
import sys
from pathlib import Path


def _add_generate(sub):
    p = sub.add_parser("generate", help="stream text sampled from a char-lstm or gpt-mini "
                                        "checkpoint or a GPT-2 directory",
                       description="Continue a prompt with text sampled from a language model "
                                   "trained by `layerwise train --model char-lstm`, printing "
                                   "each character (or word) as it is drawn.")
    p.add_argument("checkpoint", help="a .safetensors checkpoint (or its run directory), or a "
                                      "Hugging Face GPT-2 directory")
    p.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    p.add_argument("--length", type=int, default=300,
                   help="number of characters (words) to generate (default 300)")
    p.add_argument("--temperature", type=float, default=0.8,
                   help="< 1 safer, > 1 wilder, 0 greedy (default 0.8)")
    p.add_argument("--top-k", type=int, default=0,
                   help="draw only among the k most likely tokens (default 0: all)")
    p.add_argument("--seed", type=int, default=None, help="random seed for a repeatable sample")
    p.add_argument("--top-p", type=float, default=None,
                   help="nucleus sampling: draw among the most likely tokens whose "
                        "probabilities add up to p (gpt-mini, GPT-2)")
    p.add_argument("--no-cache", dest="cache", action="store_false",
                   help="transformers: re-run the whole prefix at every step (no key/value "
                        "cache; slower, same tokens)")
    return p


LANGUAGE_MODELS = ("char-lstm", "gpt-mini")
TRANSFORMER_LANGUAGE_MODELS = ("gpt-mini",)


def load_transformer_language_model(path):
    """(model in eval mode, tokenizer, end-of-text id) of a gpt-mini checkpoint or a GPT-2
    directory, or None when ``path`` is neither."""
    from ..models.gpt2 import is_gpt2_directory, load_gpt2
    path = Path(path)
    if is_gpt2_directory(path):
        model, tokenizer = load_gpt2(path)
        return model, tokenizer, None
    if path.is_dir():
        path = path / ("best.safetensors" if (path / "best.safetensors").is_file()
                       else "last.safetensors")
    if not path.is_file():
        return None
    from ..models.sequence import build_sequence_model
    from ..text import tokenizer_from_dict
    from ..train.checkpoint import load_checkpoint
    ckpt = load_checkpoint(path)
    if ckpt.config.get("model") not in TRANSFORMER_LANGUAGE_MODELS:
        return None
    model = build_sequence_model(ckpt.config)
    model.load_state_dict(ckpt.model_state)
    return model.eval(), tokenizer_from_dict(ckpt.config["tokenizer"]), None


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
    if name not in LANGUAGE_MODELS or ("vocab" not in ckpt.config and
                                       "tokenizer" not in ckpt.config):
        raise CheckpointError(f"{path}: model {name!r} does not generate text; `layerwise "
                              f"generate` needs a checkpoint of {', '.join(LANGUAGE_MODELS)}")
    if name in TRANSFORMER_LANGUAGE_MODELS:
        raise CheckpointError(f"{path}: {name} is a transformer; use "
                              f"load_transformer_language_model")
    model = build_sequence_model(ckpt.config)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return model, vocab_from_dict(ckpt.config["vocab"]), ckpt.config


def cmd_generate(args, stream=None):
    from ..models.text_generation import generate
    stream = stream or sys.stdout
    transformer = load_transformer_language_model(args.checkpoint)
    if transformer is not None:
        from ..models.generation import generate_text
        model, tokenizer, eos = transformer
        stream.write(args.prompt)
        for piece in generate_text(model, tokenizer, args.prompt, args.length, args.temperature,
                                   args.top_k or None, getattr(args, "top_p", None), args.seed,
                                   getattr(args, "cache", True), eos):
            stream.write(piece)
            stream.flush()
        stream.write("\n")
        return
    if getattr(args, "top_p", None) is not None:
        raise ValueError("--top-p applies to transformer language models (gpt-mini, GPT-2); "
                         "char-lstm samples with --temperature and --top-k")
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
