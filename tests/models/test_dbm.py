"""DBM: known answers by enumerating every joint state of a 3-3-2 machine — energy,
partition function, likelihood, its gradient, the Gibbs sampler's stationary law —, the
mean-field bound, learning that raises the exact likelihood, errors."""
import itertools

import numpy as np
import pytest
from scipy.special import expit, logsumexp

import layerwise as lw
from layerwise import optim
from layerwise.models import DBM

SIZES = (3, 3, 2)
ALL = [np.array(list(itertools.product([0.0, 1.0], repeat=n))) for n in SIZES]


def small_dbm(seed=0, scale=0.9):
    lw.manual_seed(seed)
    dbm = DBM(SIZES, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for name, param in dbm.named_parameters():
        param.data[...] = rng.normal(0, scale, param.data.shape)
    return dbm


def brute_force_joint(dbm):
    """p(v, h¹, h²) over all 8 x 8 x 4 states by E = -Σ b·s - h¹ᵀW¹v - h²ᵀW²h¹."""
    v, h1, h2 = (a[:, None, None, :] if i == 0 else a[None, :, None, :] if i == 1
                 else a[None, None, :, :] for i, a in enumerate(ALL))
    w1, w2 = dbm.weight(1), dbm.weight(2)
    neg_energy = ((v * dbm.bias(0)).sum(-1) + (h1 * dbm.bias(1)).sum(-1) + (h2 * dbm.bias(2)).sum(-1)
                  + np.einsum("vi,ji,hj->vh", ALL[0], w1, ALL[1])[:, :, None]
                  + np.einsum("hj,kj,gk->hg", ALL[1], w2, ALL[2])[None, :, :])
    return np.exp(neg_energy - logsumexp(neg_energy)), logsumexp(neg_energy)


def exact_statistics(dbm, p):
    """E[s^l s^(l-1)ᵀ] and E[s^l] under a (8, 8, 4) table of probabilities."""
    pv, ph1, ph2 = p.sum((1, 2)), p.sum((0, 2)), p.sum((0, 1))
    return {"bias_0": pv @ ALL[0], "bias_1": ph1 @ ALL[1], "bias_2": ph2 @ ALL[2],
            "weight_1": np.einsum("vh,hj,vi->ji", p.sum(2), ALL[1], ALL[0]),
            "weight_2": np.einsum("hg,gk,hj->kj", p.sum(0), ALL[2], ALL[1])}


def test_energy_by_hand():
    dbm = small_dbm()
    v, h1, h2 = np.array([[1.0, 0, 1]]), np.array([[0.0, 1, 1]]), np.array([[1.0, 0]])
    by_hand = -(v @ dbm.bias(0) + h1 @ dbm.bias(1) + h2 @ dbm.bias(2)
                + h1 @ dbm.weight(1) @ v.T + h2 @ dbm.weight(2) @ h1.T).item()
    assert dbm.energy([v, h1, h2])[0] == pytest.approx(by_hand, abs=1e-12)


def test_partition_function_and_likelihood_equal_the_brute_force_sums():
    dbm = small_dbm()
    p, log_z = brute_force_joint(dbm)
    assert dbm.log_partition() == pytest.approx(log_z, abs=1e-10)
    np.testing.assert_allclose(np.exp(dbm.log_likelihood(ALL[0])), p.sum((1, 2)), atol=1e-12)
    assert np.exp(dbm.log_likelihood(ALL[0])).sum() == pytest.approx(1.0, abs=1e-12)


def test_likelihood_gradient_is_data_minus_model_expectation():
    """Finite differences of the exact log p(v) equal E_p(h|v)[stats] - E_p(v,h)[stats]."""
    dbm = small_dbm(1)
    v = np.array([[1.0, 0.0, 1.0]])
    p, _ = brute_force_joint(dbm)
    index = int(v[0] @ [4, 2, 1])
    posterior = np.zeros_like(p)
    posterior[index] = p[index] / p[index].sum()
    expected = {k: exact_statistics(dbm, posterior)[k] - exact_statistics(dbm, p)[k]
                for k in exact_statistics(dbm, p)}
    eps = 1e-6
    for name, param in dbm.named_parameters():
        grad = np.zeros_like(param.data)
        for i in np.ndindex(param.data.shape):
            old = param.data[i]
            param.data[i] = old + eps
            up = dbm.log_likelihood(v)[0]
            param.data[i] = old - eps
            down = dbm.log_likelihood(v)[0]
            param.data[i] = old
            grad[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, expected[name], atol=1e-7, err_msg=name)


def test_gibbs_chains_reach_the_exact_model_expectation():
    dbm = small_dbm(2, scale=0.6)
    p, _ = brute_force_joint(dbm)
    exact = exact_statistics(dbm, p)
    rng = np.random.default_rng(0)
    dbm.init_chains(20000, rng)
    for _ in range(30):
        dbm.chains = dbm.gibbs_step(dbm.chains, rng)
    sampled = dbm.statistics(dbm.chains)
    for name in exact:
        np.testing.assert_allclose(sampled[name], exact[name], atol=0.02, err_msg=name)


def test_mean_field_is_a_fixed_point_and_a_lower_bound_that_never_decreases():
    dbm = small_dbm(3)
    v = ALL[0]
    bounds = [dbm.variational_bound(v, steps=s) for s in range(8)]
    for before, after in zip(bounds, bounds[1:]):
        assert np.all(after >= before - 1e-12)
    states = dbm.mean_field(v, steps=200)
    for l in (1, 2):
        np.testing.assert_allclose(states[l], expit(dbm.layer_input(l, states)), atol=1e-9)
    log_z = dbm.log_partition()
    gap = dbm.log_likelihood(v, log_z) - (bounds[-1] - log_z)      # KL(q ‖ p(h|v)) >= 0
    assert np.all(gap >= -1e-12) and gap.max() > 1e-4


def two_prototypes(rng, n=400):
    """6-pixel images: one of two prototypes, each pixel flipped with probability 0.05
    (entropy log 2 + 6 H(0.05) = 1.88 nats: about the best log-likelihood a model can reach)."""
    prototypes = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=np.float64)
    return np.abs(prototypes[rng.integers(0, 2, n)] - (rng.random((n, 6)) < 0.05))


def test_greedy_pretraining_with_doubled_inputs_raises_the_exact_likelihood():
    lw.manual_seed(0)
    data = two_prototypes(np.random.default_rng(0))
    dbm = DBM((6, 4, 3), dtype=np.float64)
    start = dbm.log_likelihood(data).mean()
    history = dbm.pretrain(data, epochs=20, lr=0.1, batch_size=20)
    assert [h["layer"] for h in history] == [1] * 20 + [2] * 20
    assert history[19]["reconstruction_error"] < 0.5 * history[0]["reconstruction_error"]
    assert start == pytest.approx(-6 * np.log(2), abs=0.05)        # weights ~ 0: uniform
    assert dbm.log_likelihood(data).mean() > -2.05                  # measured -2.01
    assert dbm.reconstruction_error(data) < 0.08


def test_persistent_cd_alone_learns_the_data_and_samples_look_like_it():
    lw.manual_seed(0)
    rng = np.random.default_rng(0)
    data = two_prototypes(rng)
    dbm = DBM((6, 4, 3), weight_std=0.1, dtype=np.float64)
    start = dbm.log_likelihood(data).mean()
    optimizer = optim.SGD(dbm.parameters(), lr=0.05, momentum=0.5)
    for epoch in range(15):
        for batch in np.split(data[rng.permutation(400)], 20):
            dbm.persistent_cd(batch, k=1, mean_field_steps=10, n_chains=100, rng=rng)
            optimizer.step()
    assert len(dbm.chains[0]) == 100
    trained = dbm.log_likelihood(data).mean()
    assert start < -4.0 and trained > -2.2                          # measured -4.16 -> -2.07
    samples = dbm.sample(200, k=50, generator=np.random.default_rng(1))
    assert samples.shape == (200, 6)
    halves = samples[:, :3].mean(1) - samples[:, 3:].mean(1)       # one prototype or the other
    assert np.mean(np.abs(halves) > 0.5) > 0.7


def test_transform_gives_mean_field_features():
    dbm = small_dbm(4)
    features = dbm.transform(ALL[0], steps=20)
    assert features.shape == (8, 2) and np.all((features > 0) & (features < 1))
    both = dbm.transform(ALL[0], steps=20, layers=[1, 2])
    np.testing.assert_allclose(both[:, 3:], features)


def test_errors_name_the_model_and_the_problem():
    dbm = small_dbm()
    with pytest.raises(ValueError, match=r"DBM: binary visible units need inputs in \[0, 1\].*"
                                         r"\[-0\.5, 1\]"):
        dbm.mean_field(np.array([[1.0, -0.5, 0.0]]))
    with pytest.raises(ValueError, match=r"expected 3 visible values per sample, got input of "
                                         r"shape \(2, 4\)"):
        dbm.persistent_cd(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least two hidden layers"):
        DBM((4, 3))
    with pytest.raises(ValueError, match="k \\(Gibbs sweeps per update\\) must be >= 1, got 0"):
        dbm.persistent_cd(np.zeros((2, 3)), k=0)
    with pytest.raises(ValueError, match="exact enumeration needs"):
        DBM((30, 5, 4)).log_partition()
