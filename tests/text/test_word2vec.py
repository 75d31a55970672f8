"""word2vec skip-gram with negative sampling: the gradient, learning, queries, saving."""
import numpy as np
import pytest

from layerwise.text import Word2Vec

# two families of words that share contexts inside the family only
_rng = np.random.default_rng(0)
_ANIMALS, _FOODS = ["cat", "dog", "cow", "horse"], ["bread", "cheese", "apple", "soup"]
SENTENCES = []
for _ in range(1500):
    if _rng.random() < 0.5:
        SENTENCES.append(f"the {_rng.choice(_ANIMALS)} runs in the field and eats grass")
    else:
        SENTENCES.append(f"we cook {_rng.choice(_FOODS)} in the kitchen with salt today")
TEXT = " . ".join(SENTENCES)


def test_sgd_step_follows_the_negative_sampling_gradient():
    model = Word2Vec(vector_size=4, negative=2)
    rng = np.random.default_rng(1)
    model.vectors = rng.standard_normal((5, 4)).astype(np.float64)
    model.output_vectors = rng.standard_normal((5, 4)).astype(np.float64)
    centre, context, negatives = np.array([1]), np.array([2]), np.array([[3, 4]])

    def loss(v, u):
        sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
        return -np.log(sig(u[2] @ v[1])) - np.log(sig(-u[3] @ v[1])) - np.log(sig(-u[4] @ v[1]))
    v0, u0 = model.vectors.copy(), model.output_vectors.copy()
    eps, numeric = 1e-6, np.zeros(4)
    for d in range(4):
        plus, minus = v0.copy(), v0.copy()
        plus[1, d] += eps
        minus[1, d] -= eps
        numeric[d] = (loss(plus, u0) - loss(minus, u0)) / (2 * eps)
    model._sgd_step(centre, context, negatives, lr=1e-3)
    assert np.allclose((v0[1] - model.vectors[1]) / 1e-3, numeric, atol=1e-5)


def test_learns_that_words_sharing_contexts_are_neighbours(tmp_path):
    model = Word2Vec(vector_size=16, window=3, negative=5, min_count=5, epochs=5, batch_size=128,
                     subsample=0, seed=0).fit(TEXT)
    assert model.losses[-1] < model.losses[0]
    neighbours = [w for w, _ in model.most_similar("cat", topn=3)]
    assert set(neighbours) <= set(_ANIMALS)
    assert model.similarity("cat", "dog") > model.similarity("cat", "bread")
    answer = [w for w, _ in model.analogy("cat", "dog", "bread", topn=3)]
    assert set(answer) & set(_FOODS)
    again = Word2Vec.load(model.save(tmp_path / "w2v.safetensors"))
    assert np.array_equal(again["cheese"], model["cheese"])
    embedding = model.to_embedding()
    assert embedding.weight.shape == model.vectors.shape and not embedding.weight.requires_grad
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        model.most_similar("zebra")
