"""Generating text with a trained language model, one token at a time.

The model reads the prompt once (its final state summarizes it), then repeats:
turn the last logits z into probabilities p_k ∝ exp(z_k / T), keep only the
``top_k`` most likely tokens if asked, draw the next token, feed it back. The
temperature T sharpens (T < 1: safer, more repetitive) or flattens (T > 1: more
surprising, more mistakes) the distribution; T = 0 always takes the most likely
token (greedy decoding). A seed makes the sample repeatable.
"""
import numpy as np

from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad


def next_token(logits, temperature=1.0, top_k=None, rng=None):
    """One token id drawn from ``logits`` (V,) at ``temperature``, among the ``top_k`` best."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits / temperature
    if top_k:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        cutoff = np.partition(scaled, -min(top_k, len(scaled)))[-min(top_k, len(scaled))]
        scaled = np.where(scaled >= cutoff, scaled, -np.inf)
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    rng = rng or np.random.default_rng()
    return int(rng.choice(len(probs), p=probs))


def start_ids(vocab, prompt):
    """The prompt's ids; an empty prompt starts after a line break (or the commonest token)."""
    if prompt:
        return vocab.encode(prompt)
    if "\n" in vocab:
        return np.array([vocab.stoi["\n"]])
    return np.array([len(vocab.specials())])


def generate(model, vocab, prompt="", length=200, temperature=1.0, top_k=None, seed=None):
    """Yield the generated text piece by piece (``length`` new tokens after ``prompt``).

    ``model(ids (1, T), state) -> (logits (1, T, V), state)``, e.g. a ``CharLSTM``.
    Each yielded piece is the new text since the previous one, so printing the pieces
    streams the sample.
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    ids = start_ids(vocab, prompt)
    generated, shown = [], ""
    try:
        with no_grad():
            logits, state = model(tensor(ids[None, :]))
            for _ in range(length):
                token = next_token(logits.numpy()[0, -1], temperature, top_k, rng)
                generated.append(token)
                text = vocab.decode(generated)
                yield text[len(shown):]
                shown = text
                logits, state = model(tensor(np.array([[token]])), state)
    finally:
        model.train(was_training)


def sample_text(model, vocab, prompt="", length=200, temperature=1.0, top_k=None, seed=None):
    """The whole generated continuation as one string."""
    return "".join(generate(model, vocab, prompt, length, temperature, top_k, seed))
