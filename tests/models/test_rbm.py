"""RBM: known answers by enumerating every joint state of a 4x3 RBM, CD-k and PCD, the
free energy by hand, pseudo-likelihood, the scikit-learn-compatible estimator, errors."""
import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

import layerwise as lw
from layerwise import optim
from layerwise.models import RBM, BernoulliRBM

STATES_V = np.array(list(itertools.product([0, 1], repeat=4)), dtype=np.float64)
STATES_H = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
DATA = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 1]],
                dtype=np.float64)


def small_rbm(seed=0):
    lw.manual_seed(seed)
    rbm = RBM(4, 3, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rbm.weight.data[...] = rng.normal(0, 0.8, (3, 4))
    rbm.visible_bias.data[...] = rng.normal(0, 0.5, 4)
    rbm.hidden_bias.data[...] = rng.normal(0, 0.5, 3)
    return rbm


def joint(rbm):
    """p(v, h) for all 16 x 8 states, by the energy E = -bᵀv - cᵀh - hᵀWv."""
    w, b, c = rbm.weight.data, rbm.visible_bias.data, rbm.hidden_bias.data
    energy = -(STATES_V @ b)[:, None] - (STATES_H @ c)[None, :] - STATES_V @ w.T @ STATES_H.T
    log_p = -energy - logsumexp(-energy)
    return np.exp(log_p)


def exact_model_expectation(rbm):
    p = joint(rbm)
    return {"weight": np.einsum("vh,hj,vi->ji", p, STATES_H, STATES_V),
            "visible_bias": p.sum(axis=1) @ STATES_V, "hidden_bias": p.sum(axis=0) @ STATES_H}


def exact_data_expectation(rbm, data):
    """E_data[Σ_h p(h|v) h vᵀ] with p(h|v) by enumerating h (not by the sigmoid formula)."""
    w, c = rbm.weight.data, rbm.hidden_bias.data
    terms = []
    for v in data:
        log_weights = STATES_H @ (c + w @ v)          # -E(v, h) up to terms without h
        p_h = np.exp(log_weights - logsumexp(log_weights))
        terms.append(np.outer(p_h @ STATES_H, v))
    return np.mean(terms, axis=0)


def mean_log_likelihood(rbm, data):
    p_v = joint(rbm).sum(axis=1)
    index = (data @ (2 ** np.arange(3, -1, -1))).astype(int)
    return np.mean(np.log(p_v[index]))


def test_positive_phase_is_the_enumerated_data_expectation():
    rbm = small_rbm()
    np.testing.assert_allclose(rbm.phase_statistics(DATA)["weight"],
                               exact_data_expectation(rbm, DATA), atol=1e-12)


def test_exact_gradient_is_positive_minus_exact_model_phase():
    """d mean log p(data) / dW by finite differences of the enumerated likelihood."""
    rbm, eps = small_rbm(1), 1e-6
    numeric = np.zeros((3, 4))
    for j, i in itertools.product(range(3), range(4)):
        rbm.weight.data[j, i] += eps
        up = mean_log_likelihood(rbm, DATA)
        rbm.weight.data[j, i] -= 2 * eps
        down = mean_log_likelihood(rbm, DATA)
        rbm.weight.data[j, i] += eps
        numeric[j, i] = (up - down) / (2 * eps)
    analytic = rbm.phase_statistics(DATA)["weight"] - exact_model_expectation(rbm)["weight"]
    np.testing.assert_allclose(numeric, analytic, atol=1e-7)


def test_cd_k_negative_phase_converges_to_the_model_expectation():
    rbm = small_rbm(2)
    exact = exact_model_expectation(rbm)
    chains = np.repeat(DATA, 8000, axis=0)          # 40,000 chains started at the data
    errors = {}
    for k in (1, 3, 30):
        rng = np.random.default_rng(k)
        negative = rbm.phase_statistics(rbm.gibbs(chains, k, rng))
        errors[k] = max(np.abs(negative[name] - exact[name]).max() for name in exact)
    assert errors[1] > 0.03                          # CD-1 is biased towards the data
    assert errors[30] < 0.012 and errors[30] < errors[3] < errors[1]


def test_contrastive_divergence_fills_grad_with_minus_the_estimate():
    rbm = small_rbm(3)
    before = rbm.weight.data.copy()
    negative = rbm.contrastive_divergence(DATA, k=2, rng=np.random.default_rng(0))
    expected = rbm.phase_statistics(negative)["weight"] - rbm.phase_statistics(DATA)["weight"]
    np.testing.assert_allclose(rbm.weight.grad.data, expected)
    optim.SGD(rbm.parameters(), lr=0.1).step()
    np.testing.assert_allclose(rbm.weight.data, before - 0.1 * expected)


def test_persistent_chains_carry_over_between_updates():
    rbm = small_rbm(4)
    first = rbm.contrastive_divergence(DATA, persistent=True, rng=np.random.default_rng(0))
    assert rbm.chains is first
    second = rbm.contrastive_divergence(DATA[::-1], persistent=True, rng=np.random.default_rng(1))
    assert rbm.chains is second and second.shape == DATA.shape


def test_free_energy_by_hand():
    rbm = RBM(2, 2, dtype=np.float64)
    rbm.weight.data[...] = [[1.0, -1.0], [0.5, 2.0]]
    rbm.visible_bias.data[...] = [0.2, -0.3]
    rbm.hidden_bias.data[...] = [-1.0, 0.5]
    v = np.array([[1.0, 1.0]])
    # F = -(0.2 - 0.3) - log(1 + e^(-1 + 1 - 1)) - log(1 + e^(0.5 + 0.5 + 2))
    expected = 0.1 - math.log(1 + math.exp(-1)) - math.log(1 + math.exp(3))
    assert rbm.free_energy(v)[0] == pytest.approx(expected)
    # and F(v) = -log Σ_h e^(-E(v, h))
    hs = np.array(list(itertools.product([0, 1], repeat=2)), dtype=np.float64)
    energies = rbm.energy(np.repeat(v, 4, axis=0), hs)
    assert rbm.free_energy(v)[0] == pytest.approx(-logsumexp(-energies))


def test_gaussian_visible_free_energy_by_hand():
    rbm = RBM(2, 1, visible="gaussian", dtype=np.float64)
    rbm.weight.data[...] = [[0.5, -1.0]]
    rbm.visible_bias.data[...] = [1.0, 0.0]
    rbm.hidden_bias.data[...] = [0.25]
    v = np.array([[2.0, -3.0]])
    expected = 0.5 * (1 + 9) - math.log(1 + math.exp(0.25 + 1 + 3))
    assert rbm.free_energy(v)[0] == pytest.approx(expected)
    mean, sample = rbm.sample_v(np.array([[1.0]]), np.random.default_rng(0))
    np.testing.assert_allclose(mean, [[1.5, -1.0]])


def test_pseudo_likelihood_exact_and_estimate():
    rbm = small_rbm(5)
    p_v = joint(rbm).sum(axis=1)
    index = lambda v: int(v @ (2 ** np.arange(3, -1, -1)))  # noqa: E731
    v = DATA[0]
    expected = 0.0
    for i in range(4):
        flipped = v.copy()
        flipped[i] = 1 - flipped[i]
        expected += math.log(p_v[index(v)] / (p_v[index(v)] + p_v[index(flipped)]))
    assert rbm.pseudo_likelihood(DATA[:1], exact=True)[0] == pytest.approx(expected)
    estimates = rbm.pseudo_likelihood(np.repeat(DATA[:1], 20000, axis=0),
                                      rng=np.random.default_rng(0))
    assert estimates.mean() == pytest.approx(expected, rel=0.03)


def test_bernoulli_rbm_refuses_values_outside_zero_one():
    rbm = RBM(4, 3)
    with pytest.raises(ValueError, match=r"RBM \(Bernoulli visible units\): inputs must lie in "
                                         r"\[0, 1\].*\[0, 255\]"):
        rbm.contrastive_divergence(np.array([[0, 255, 3, 1.0]]))
    with pytest.raises(ValueError, match="expected 4 visible values per sample"):
        rbm.free_energy(np.zeros((2, 5)))
    RBM(4, 3, visible="gaussian").free_energy(np.array([[-2.0, 3.0, 0, 1]]))  # fine


def test_sklearn_estimator_in_a_pipeline():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    rng = np.random.default_rng(0)
    prototypes = rng.random((2, 16)) < 0.5
    labels = rng.integers(0, 2, 300)
    X = np.where(rng.random((300, 16)) < 0.9, prototypes[labels], ~prototypes[labels]) * 1.0
    rbm = BernoulliRBM(n_components=8, learning_rate=0.1, batch_size=10, n_iter=10, random_state=0)
    assert clone(rbm).get_params() == rbm.get_params()
    assert rbm.get_params()["n_components"] == 8
    pipe = Pipeline([("rbm", rbm), ("logistic", LogisticRegression())]).fit(X, labels)
    assert pipe.score(X, labels) > 0.9
    fitted = pipe.named_steps["rbm"]
    assert fitted.components_.shape == (8, 16) and fitted.intercept_hidden_.shape == (8,)
    assert fitted.transform(X).shape == (300, 8) and fitted.gibbs(X[:3]).shape == (3, 16)
    assert fitted.score_samples(X).shape == (300,)
    partial = BernoulliRBM(n_components=4, random_state=0).partial_fit(X[:20]).partial_fit(X[20:40])
    assert partial.components_.shape == (4, 16)
    with pytest.raises(ValueError, match="need values in \\[0, 1\\]"):
        BernoulliRBM().fit(X * 255)


def test_sklearn_estimator_learns_like_sklearn():
    """Same hyperparameters, same data: pseudo-likelihoods close to scikit-learn's."""
    from sklearn.neural_network import BernoulliRBM as SklearnRBM
    rng = np.random.default_rng(1)
    X = (rng.random((400, 20)) < np.linspace(0.1, 0.9, 20)).astype(np.float64)
    ours = BernoulliRBM(n_components=10, n_iter=15, random_state=0).fit(X)
    theirs = SklearnRBM(n_components=10, n_iter=15, random_state=0).fit(X)
    exact_ours = ours.rbm_.pseudo_likelihood(X, exact=True).mean()
    copy = RBM(20, 10, dtype=np.float64)
    copy.load_state_dict({"weight": theirs.components_, "visible_bias": theirs.intercept_visible_,
                          "hidden_bias": theirs.intercept_hidden_})
    exact_theirs = copy.pseudo_likelihood(X, exact=True).mean()
    assert exact_ours == pytest.approx(exact_theirs, rel=0.03)


def test_estimator_works_without_scikit_learn():
    import subprocess
    import sys
    script = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def refuse(name, *a, **k):\n"
        "    if name.startswith('sklearn'):\n"
        "        raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = refuse\n"
        "import numpy as np\n"
        "from layerwise.models.rbm_sklearn import BernoulliRBM\n"
        "X = (np.random.default_rng(0).random((40, 6)) < 0.5) * 1.0\n"
        "r = BernoulliRBM(n_components=3, n_iter=2, random_state=0)\n"
        "assert r.set_params(n_iter=3).get_params()['n_iter'] == 3\n"
        "print(r.fit_transform(X).shape)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(40, 3)"
