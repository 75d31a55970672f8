"""Shared checks: PyTorch parity (forward and backward) and finite-difference gradients.

Every op is tested twice:

- ``assert_matches_torch``: the same inputs through layerwise and PyTorch 2.13 give
  the same output and, for a random output gradient, the same input gradients;
- ``assert_gradcheck``: in float64, backward agrees with central differences.

``assert_module_matches_torch`` does the same for a layer: PyTorch's state_dict is
loaded into the layerwise module with ``strict=True`` (which also proves the key
names match), then outputs, input gradients and every parameter gradient are compared.
"""
import numpy as np
import torch

import layerwise as lw

torch.set_num_threads(1)


def rng(seed=0):
    return np.random.default_rng(seed)


def random(*shape, seed=0, dtype=np.float32, low=None, high=None):
    """Reproducible test data: normal by default, uniform in [low, high) if given."""
    g = np.random.default_rng(seed)
    if low is not None:
        return g.uniform(low, high, size=shape).astype(dtype)
    return g.standard_normal(shape).astype(dtype)


def _tolerances(dtype, atol, rtol):
    if atol is None:
        atol = 1e-10 if dtype == np.float64 else 1e-5
    if rtol is None:
        rtol = 1e-7 if dtype == np.float64 else 1e-4
    return atol, rtol


def assert_close(actual, expected, atol=1e-5, rtol=1e-4, what="value"):
    actual = actual.data if isinstance(actual, lw.Tensor) else np.asarray(actual)
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert actual.shape == tuple(expected.shape), \
        f"{what}: shape {actual.shape} != expected {tuple(expected.shape)}"
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _backward_both(lw_outs, torch_outs, seed):
    g = np.random.default_rng(seed + 1000)
    lw_total, torch_total = None, None
    for lo, to in zip(lw_outs, torch_outs):
        if not (isinstance(to, torch.Tensor) and to.requires_grad):
            continue
        proj = g.standard_normal(tuple(to.shape)).astype(lo.data.dtype)
        lw_term = (lo * lw.tensor(proj)).sum()
        torch_term = (to * torch.from_numpy(proj)).sum()
        lw_total = lw_term if lw_total is None else lw_total + lw_term
        torch_total = torch_term if torch_total is None else torch_total + torch_term
    if torch_total is not None:
        lw_total.backward()
        torch_total.backward()
    return torch_total is not None


def assert_matches_torch(lw_fn, torch_fn, *arrays, grad=True, atol=None, rtol=None, seed=0):
    """``lw_fn`` and ``torch_fn`` agree on outputs and input gradients for ``arrays``.

    Float arrays become tensors that require grad (if ``grad``); integer arrays are
    passed as plain tensors (class indices, masks).
    """
    dtype = next((a.dtype for a in arrays if np.asarray(a).dtype.kind == "f"), np.float32)
    atol, rtol = _tolerances(dtype, atol, rtol)
    lw_in, torch_in = [], []
    for a in arrays:
        a = np.asarray(a)
        needs = grad and a.dtype.kind == "f"
        lw_in.append(lw.tensor(a, requires_grad=needs))
        torch_in.append(torch.tensor(a, requires_grad=needs))
    lw_outs, torch_outs = _outputs(lw_fn(*lw_in)), _outputs(torch_fn(*torch_in))
    assert len(lw_outs) == len(torch_outs)
    for k, (lo, to) in enumerate(zip(lw_outs, torch_outs)):
        assert_close(lo, to, atol, rtol, what=f"output {k}")
        if isinstance(to, torch.Tensor):
            assert lo.data.dtype == to.detach().numpy().dtype, \
                f"output {k}: dtype {lo.data.dtype} != torch's {to.dtype}"
    if grad and _backward_both(lw_outs, torch_outs, seed):
        for k, (li, ti) in enumerate(zip(lw_in, torch_in)):
            if ti.requires_grad:
                expected = ti.grad if ti.grad is not None else torch.zeros_like(ti)
                actual = li.grad if li.grad is not None else lw.zeros_like(li.data)
                assert_close(actual, expected, atol, rtol, what=f"gradient of input {k}")
    return lw_outs, torch_outs


def assert_module_matches_torch(lw_module, torch_module, *arrays, atol=None, rtol=None,
                                seed=0, grad=True):
    """The two modules, holding the same weights, agree on outputs and all gradients."""
    dtype = next((np.asarray(a).dtype for a in arrays if np.asarray(a).dtype.kind == "f"),
                 np.float32)
    atol, rtol = _tolerances(dtype, atol, rtol)
    lw_module.load_state_dict({k: v.detach().numpy().copy()
                               for k, v in torch_module.state_dict().items()}, strict=True)
    lw_outs, _ = assert_matches_torch(lw_module, torch_module, *arrays, grad=grad,
                                      atol=atol, rtol=rtol, seed=seed)
    if grad:
        torch_params = dict(torch_module.named_parameters())
        lw_params = dict(lw_module.named_parameters())
        assert set(torch_params) == set(lw_params)
        for name, tp in torch_params.items():
            if tp.grad is None:
                assert lw_params[name].grad is None or not lw_params[name].grad.data.any(), name
                continue
            assert_close(lw_params[name].grad, tp.grad, atol, rtol, what=f"grad of {name}")
    for name, buf in torch_module.state_dict().items():
        assert_close(lw_module.state_dict()[name], buf, atol, rtol, what=f"state {name}")
    return lw_outs


def assert_gradcheck(fn, *arrays, eps=1e-6, atol=1e-6, rtol=1e-4, grad_mask=None):
    """float64 finite differences agree with backward for every float input of ``fn``."""
    inputs = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            needs = True if grad_mask is None else grad_mask[i]
            inputs.append(lw.tensor(a.astype(np.float64), requires_grad=needs))
        else:
            inputs.append(lw.tensor(a))
    assert lw.gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
