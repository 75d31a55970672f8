"""Generating text with a transformer language model: greedy, temperature, top-k, top-p.

At each step the model gives logits z over the vocabulary for the next token:

- greedy (temperature 0): take argmax z;
- temperature T: p_k ∝ exp(z_k / T) (T < 1 sharper, T > 1 flatter);
- top-k: keep only the k most likely tokens;
- top-p (nucleus; Holtzman et al., 2020): keep the smallest set of most likely tokens
  whose probabilities add up to at least p;

then draw from what is left (renormalized). With a key/value cache (``use_cache``, the
default) the prompt is read once and each new token costs one position through the
model; without it, every step re-runs the whole prefix. When the context reaches the
model's ``block_size``, it restarts from its last half block (the cache is rebuilt from
those tokens), the same way with or without the cache, so both give the same tokens.

A model plugs in with ``model(ids) -> logits (N, T, V)``, ``model.block_size``, and for
the cache ``model.new_cache(batch)`` and ``model.forward_cached(ids, cache)``.
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    """Probabilities (V,) after temperature, top-k and top-p filtering (temperature > 0)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 here (0 is greedy), got {temperature}")
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    if top_k:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        k = min(int(top_k), scaled.size)
        cutoff = np.partition(scaled, -k)[-k]
        scaled = np.where(scaled >= cutoff, scaled, -np.inf)
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if top_p is not None and top_p < 1.0:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        order = np.argsort(-probs, kind="stable")
        before = np.cumsum(probs[order]) - probs[order]     # mass of the tokens ranked above
        dropped = order[before >= top_p]                     # the best token always stays
        probs[dropped] = 0.0
        probs /= probs.sum()
    return probs


def choose_token(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """One token id: argmax at temperature 0, else a draw from the filtered distribution."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return int(np.argmax(logits))
    probs = next_token_distribution(logits, temperature, top_k, top_p)
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(probs.size, p=probs))


def generate_ids(model, prompt_ids, max_new_tokens=100, temperature=1.0, top_k=None,
                 top_p=None, seed=None, use_cache=True, eos_id=None):
    """Yield ``max_new_tokens`` new token ids after ``prompt_ids`` (stops early at ``eos_id``)."""
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    ids = [int(i) for i in np.asarray(prompt_ids).reshape(-1)]
    if not ids:
        raise ValueError("generate: the prompt must have at least one token")
    rng = np.random.default_rng(seed)
    block = model.block_size
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            cache, last, start = None, None, max(0, len(ids) - block)
            for step in range(max_new_tokens):
                if not use_cache:
                    last = model(Tensor(np.array([ids[start:]]))).data[0, -1]
                elif cache is None:
                    cache = model.new_cache(1)
                    last = model.forward_cached(Tensor(np.array([ids[start:]])), cache).data[0, -1]
                token = choose_token(last, temperature, top_k, top_p, rng)
                ids.append(token)
                yield token
                if (eos_id is not None and token == eos_id) or step + 1 == max_new_tokens:
                    return
                if len(ids) - start > block:            # context full: keep its last half
                    start = len(ids) - block // 2
                    cache = None
                elif use_cache:
                    last = model.forward_cached(Tensor(np.array([[token]])), cache).data[0, -1]
    finally:
        model.train(was_training)


def generate_text(model, tokenizer, prompt="", max_new_tokens=200, temperature=1.0,
                  top_k=None, top_p=None, seed=None, use_cache=True, eos_id=None):
    """Yield the continuation of ``prompt`` piece by piece (print the pieces to stream it).

    An empty prompt starts after a line break (or the first non-special token). A piece
    that would end inside a multi-byte character (BPE) waits for the next token.
    """
    prompt_ids = tokenizer.encode(prompt) if prompt else _start_ids(tokenizer)
    generated, shown = [], ""
    partial_bytes = getattr(tokenizer, "kind", None) == "bpe"    # tokens may split a character
    for token in generate_ids(model, prompt_ids, max_new_tokens, temperature, top_k, top_p,
                              seed, use_cache, eos_id):
        generated.append(token)
        text = tokenizer.decode(generated)
        if partial_bytes and text.endswith("\ufffd"):
            continue
        yield text[len(shown):]
        shown = text
    text = tokenizer.decode(generated)
    if len(text) > len(shown):
        yield text[len(shown):]


def _start_ids(tokenizer):
    newline = tokenizer.encode("\n")
    if len(newline) == 1 and tokenizer.decode(newline) == "\n":
        return newline
    specials = len(tokenizer.specials()) if hasattr(tokenizer, "specials") else 0
    return np.array([specials], dtype=np.int64)


def sample(model, tokenizer, prompt="", max_new_tokens=200, **options):
    """The whole continuation as one string."""
    return "".join(generate_text(model, tokenizer, prompt, max_new_tokens, **options))
