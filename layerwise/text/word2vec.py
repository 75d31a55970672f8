"""word2vec: skip-gram with negative sampling (Mikolov et al., 2013), trained on a corpus.

An embedding is a lookup table of learned vectors, one per word; word2vec learns it by
making each word's vector predict the words around it. Every word w has an input vector
v_w (the embedding, ``vectors``) and an output vector u_w. For a centre word c, a context
word o at most ``window`` positions away, and ``negative`` words n_1..n_K drawn from the
unigram distribution raised to 3/4 (P(w) ∝ count(w)^0.75), the loss is

    L = -log σ(u_oᵀ v_c) - Σ_k log σ(-u_{n_k}ᵀ v_c)

(tell the true context from noise), with gradients, s_o = σ(u_oᵀ v_c), s_k = σ(u_kᵀ v_c):

    ∂L/∂v_c = (s_o - 1) u_o + Σ_k s_k u_k,   ∂L/∂u_o = (s_o - 1) v_c,   ∂L/∂u_k = s_k v_c

Training is SGD on mini-batches of (centre, context) pairs (a word's gradients within
one batch are averaged), the learning rate falling linearly to 1e-4 of its start; the window of each centre is drawn in 1..window
(nearer words count more) and frequent words are subsampled (a word of frequency f is
kept with probability (√(f/t) + 1) t/f, t = ``subsample``). Words that share contexts end
with similar vectors: ``most_similar`` ranks words by cosine similarity
cos(a, b) = aᵀb / (|a| |b|), and ``analogy("man", "king", "woman")`` looks for the word
nearest to v_king - v_man + v_woman ("queen", on a large enough corpus).
"""
import json

import numpy as np

from .tokenizers import WordTokenizer

__all__ = ["Word2Vec"]


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _apply(table, rows, grads, lr):
    """table[row] -= lr · (mean of that row's gradients in the batch).

    Averaging a word's several gradients in one batch (instead of adding them) keeps a
    frequent word from taking a step many times larger than one SGD update."""
    counts = np.bincount(rows, minlength=len(table))[rows]
    np.add.at(table, rows, (grads * (-lr / counts)[:, None]).astype(table.dtype))


class Word2Vec:
    """Skip-gram with negative sampling; ``Word2Vec(...).fit(text)`` then query it."""

    def __init__(self, vector_size=100, window=5, negative=5, min_count=5, subsample=1e-3,
                 lr=0.025, epochs=5, batch_size=256, seed=0):
        if window < 1 or negative < 1 or vector_size < 1:
            raise ValueError(f"Word2Vec: window, negative and vector_size must be >= 1, got "
                             f"{window}, {negative}, {vector_size}")
        self.vector_size, self.window, self.negative = vector_size, window, negative
        self.min_count, self.subsample, self.lr = min_count, subsample, lr
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed
        self.vocab = self.vectors = self.output_vectors = None
        self.losses = []

    # ---------------------------------------------------------------- training
    def fit(self, text, progress=None):
        """Learn vectors for the words of ``text`` seen at least ``min_count`` times."""
        rng = np.random.default_rng(self.seed)
        self.vocab = WordTokenizer.build(text, min_count=self.min_count)
        ids = self.vocab.encode(text)
        words = np.array([any(c.isalnum() for c in t) for t in self.vocab.itos])
        words[:len(self.vocab.specials())] = False
        ids = ids[words[ids]]                        # drop <unk> (rare words) and punctuation
        counts = np.bincount(ids, minlength=len(self.vocab)).astype(np.float64)
        size, dim = len(self.vocab), self.vector_size
        self.vectors = ((rng.random((size, dim)) - 0.5) / dim).astype(np.float32)
        self.output_vectors = np.zeros((size, dim), np.float32)
        noise = counts ** 0.75
        noise_cdf = np.cumsum(noise / noise.sum())
        frequency = counts / counts.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.subsample
            keep_prob = np.minimum(1.0, (np.sqrt(frequency / t) + 1) * t / frequency) if t else \
                np.ones(size)
        total_steps = None
        step = 0
        for epoch in range(self.epochs):
            kept = ids[rng.random(len(ids)) < keep_prob[ids]]
            centres, contexts = self._pairs(kept, rng)
            order = rng.permutation(len(centres))
            if total_steps is None:
                total_steps = max(1, self.epochs * -(-len(order) // self.batch_size))
            losses = []
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                lr = self.lr * max(1e-4, 1.0 - step / total_steps)
                negatives = np.searchsorted(noise_cdf, rng.random((len(batch), self.negative)))
                negatives = np.minimum(negatives, size - 1)
                losses.append(self._sgd_step(centres[batch], contexts[batch], negatives, lr))
                step += 1
            self.losses.append(float(np.mean(losses)) if losses else float("nan"))
            if progress:
                progress(f"word2vec epoch {epoch + 1}/{self.epochs}: {len(centres):,} pairs, "
                         f"loss {self.losses[-1]:.4f}")
        return self

    def _pairs(self, ids, rng):
        """All (centre, context) pairs of a token stream, each centre with its own window."""
        reach = rng.integers(1, self.window + 1, size=len(ids))
        centres, contexts = [], []
        positions = np.arange(len(ids))
        for offset in range(1, self.window + 1):
            for sign in (-1, 1):
                other = positions + sign * offset
                valid = (other >= 0) & (other < len(ids)) & (reach >= offset)
                centres.append(ids[valid])
                contexts.append(ids[other[valid]])
        return np.concatenate(centres), np.concatenate(contexts)

    def _sgd_step(self, centre, context, negatives, lr):
        """One SGD step on a batch; returns the batch's mean loss."""
        v = self.vectors[centre]                                  # (B, d)
        u_pos = self.output_vectors[context]                      # (B, d)
        u_neg = self.output_vectors[negatives]                    # (B, K, d)
        s_pos = _sigmoid(np.einsum("bd,bd->b", u_pos, v))
        s_neg = _sigmoid(np.einsum("bkd,bd->bk", u_neg, v))
        eps = 1e-7
        loss = -np.log(s_pos + eps).mean() - np.log(1 - s_neg + eps).sum(axis=1).mean()
        g_pos = (s_pos - 1)[:, None]                              # ∂L/∂(u_oᵀv_c)
        grad_v = g_pos * u_pos + np.einsum("bk,bkd->bd", s_neg, u_neg)
        outputs = np.concatenate([context, negatives.reshape(-1)])
        output_grads = np.concatenate([g_pos * v, (s_neg[:, :, None] * v[:, None, :])
                                       .reshape(-1, v.shape[1])])
        _apply(self.output_vectors, outputs, output_grads, lr)
        _apply(self.vectors, centre, grad_v, lr)
        return loss

    # ---------------------------------------------------------------- queries
    def _check_fitted(self):
        if self.vectors is None:
            raise RuntimeError("Word2Vec: call fit(text) (or Word2Vec.load) first")

    def index(self, word):
        self._check_fitted()
        i = self.vocab.stoi.get(word.lower() if self.vocab.lower else word)
        if i is None or i < len(self.vocab.specials()):
            raise KeyError(f"Word2Vec: {word!r} is not in the vocabulary of {len(self.vocab)} "
                           f"words (seen fewer than min_count={self.min_count} times?)")
        return i

    def __getitem__(self, word):
        return self.vectors[self.index(word)]

    def __contains__(self, word):
        try:
            self.index(word)
            return True
        except KeyError:
            return False

    def _unit_vectors(self):
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.maximum(norms, 1e-12)

    def similarity(self, a, b):
        """cos(v_a, v_b)."""
        unit = self._unit_vectors()
        return float(unit[self.index(a)] @ unit[self.index(b)])

    def nearest(self, vector, topn=10, exclude=()):
        """[(word, cosine)] of the ``topn`` words nearest to ``vector``."""
        unit = self._unit_vectors()
        scores = unit @ (vector / max(np.linalg.norm(vector), 1e-12))
        scores[:len(self.vocab.specials())] = -np.inf
        scores[self.output_vectors.any(axis=1) == 0] = -np.inf   # never trained (punctuation)
        for i in exclude:
            scores[i] = -np.inf
        best = np.argsort(-scores)[:topn]
        return [(self.vocab.itos[i], float(scores[i])) for i in best]

    def most_similar(self, word, topn=10):
        """The ``topn`` words with the most similar vectors (cosine), the word itself left out."""
        i = self.index(word)
        return self.nearest(self._unit_vectors()[i], topn, exclude=(i,))

    def analogy(self, a, b, c, topn=5):
        """a is to b as c is to ?: the words nearest to v_b - v_a + v_c (a, b, c left out)."""
        unit = self._unit_vectors()
        ia, ib, ic = self.index(a), self.index(b), self.index(c)
        return self.nearest(unit[ib] - unit[ia] + unit[ic], topn, exclude=(ia, ib, ic))

    def to_embedding(self, freeze=True):
        """An ``nn.Embedding`` holding these vectors (rows in the vocabulary's id order)."""
        from ..nn.embedding import Embedding
        self._check_fitted()
        return Embedding.from_pretrained(self.vectors, freeze=freeze)

    # ---------------------------------------------------------------- saving
    def save(self, path):
        """Vectors (and output vectors) as safetensors, vocabulary and settings in its metadata."""
        from ..io.safetensors_io import save_file
        self._check_fitted()
        settings = {k: getattr(self, k) for k in ("vector_size", "window", "negative",
                                                  "min_count", "subsample", "lr", "epochs",
                                                  "batch_size", "seed")}
        return save_file({"vectors": self.vectors, "output_vectors": self.output_vectors}, path,
                         {"format": "layerwise-word2vec/1", "vocab": json.dumps(self.vocab.to_dict()),
                          "settings": json.dumps(settings), "losses": json.dumps(self.losses)})

    @classmethod
    def load(cls, path):
        from ..io.safetensors_io import load_file
        from .tokenizers import tokenizer_from_dict
        arrays, meta = load_file(path)
        model = cls(**json.loads(meta["settings"]))
        model.vocab = tokenizer_from_dict(json.loads(meta["vocab"]))
        model.vectors, model.output_vectors = arrays["vectors"], arrays["output_vectors"]
        model.losses = json.loads(meta.get("losses", "[]"))
        return model
