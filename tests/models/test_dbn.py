"""DBN: greedy pre-training, the unrolled MLP carrying the RBMs' weights, sampling down."""
import numpy as np

import layerwise as lw
from layerwise.models import DBN


def patterns(n=300, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = rng.random((3, 36)) < 0.5
    labels = rng.integers(0, 3, n)
    flips = rng.random((n, 36)) < 0.05
    return (prototypes[labels] ^ flips).astype(np.float32), labels


def test_pretraining_lowers_every_layers_reconstruction_error():
    lw.manual_seed(0)
    data, _ = patterns()
    dbn = DBN((36, 16, 8))
    before = [dbn.rbms[0].reconstruction_error(data)]
    history = dbn.pretrain(data, epochs=15, lr=0.1, batch_size=20)
    assert [h["layer"] for h in history] == [1] * 15 + [2] * 15
    assert history[14]["reconstruction_error"] < 0.5 * before[0]
    assert history[-1]["reconstruction_error"] < history[15]["reconstruction_error"]
    assert dbn.transform(data).shape == (300, 8)


def test_unrolled_mlp_carries_the_rbm_weights_and_computes_the_same_features():
    lw.manual_seed(1)
    data, _ = patterns(50)
    dbn = DBN((36, 16, 8))
    mlp = dbn.to_mlp(num_classes=3)
    np.testing.assert_array_equal(mlp[0].weight.data, dbn.rbms[0].weight.data)
    np.testing.assert_array_equal(mlp[2].bias.data, dbn.rbms[1].hidden_bias.data)
    features = lw.nn.Sequential(*list(mlp)[:-1])(lw.tensor(data)).data
    np.testing.assert_allclose(features, dbn.transform(data), atol=1e-6)
    assert mlp(lw.tensor(data)).shape == (50, 3)


def test_sampling_runs_down_the_stack():
    dbn = DBN((36, 16, 8))
    samples = dbn.sample(5, k=20, generator=np.random.default_rng(0))
    assert samples.shape == (5, 36) and 0 <= samples.min() and samples.max() <= 1
