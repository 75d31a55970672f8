"""One check for every architecture: the layerwise model, holding the PyTorch reference's
weights, gives the same logits, input gradient, parameter gradients and running
statistics (training mode), then the same logits in eval mode."""
import numpy as np
import torch

import layerwise as lw

torch.set_num_threads(1)


def torch_state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def load_reference_weights(ours, reference):
    """Copy the reference's state_dict into ours (strict) and check the key order too."""
    assert list(ours.state_dict()) == list(reference.state_dict()), "state_dict keys differ"
    ours.load_state_dict(torch_state(reference), strict=True)


def assert_close(actual, expected, what, rtol=2e-3, atol_scale=2e-4, floor=1e-6):
    """Equal within float32 accumulation error, relative to the largest magnitude (or to
    ``floor`` for values that are zero up to rounding, e.g. a conv bias before a BN)."""
    actual = actual.data if isinstance(actual, lw.Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_scale * max(scale, floor),
                               err_msg=what)


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def check_parity(ours, reference, input_shape, seed=0, train=True, dtype=np.float32):
    """Forward and backward (training mode by default, then eval-mode logits) on one
    random batch, in ``dtype``.

    Deep networks with batch norm in training mode are checked in float64: at batch 2
    the backward pass through 50 batch norms amplifies float32 rounding to ~1% of the
    input gradient (in both frameworks), while float64 agrees to 1e-12.
    """
    torch.manual_seed(seed)
    reference.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours.to(dtype)
    load_reference_weights(ours, reference)
    rtol = 1e-7 if dtype == np.float64 else 2e-3
    x = np.random.default_rng(seed).standard_normal(input_shape).astype(dtype)
    ours.train(train)
    reference.train(train)
    x_ours, x_ref = lw.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    outs_ours, outs_ref = _outputs(ours(x_ours)), _outputs(reference(x_ref))
    assert len(outs_ours) == len(outs_ref)
    loss_ours, loss_ref = 0, 0
    g = np.random.default_rng(seed + 1)
    for k, (o, r) in enumerate(zip(outs_ours, outs_ref)):
        assert_close(o, r, f"output {k}", rtol)
        weights = g.standard_normal(tuple(r.shape)).astype(dtype)
        loss_ours = loss_ours + (o * lw.tensor(weights)).sum()
        loss_ref = loss_ref + (r * torch.from_numpy(weights)).sum()
    loss_ours.backward()
    loss_ref.backward()
    assert_close(x_ours.grad, x_ref.grad, "input gradient", rtol)
    ours_params = dict(ours.named_parameters())
    largest = max(float(p.grad.abs().max()) for p in reference.parameters())
    for name, p in reference.named_parameters():
        assert p.grad is not None, name
        assert_close(ours_params[name].grad, p.grad, f"gradient of {name}", rtol,
                     floor=1e-2 * largest)
    ours_state = ours.state_dict()
    for name, value in reference.state_dict().items():
        assert_close(ours_state[name], value, f"state {name}", rtol)
    ours.to(np.float32)
    reference.float()
    if train:
        ours.eval()
        reference.eval()
        with lw.no_grad(), torch.no_grad():
            x = x.astype(np.float32)
            assert_close(ours(lw.tensor(x)), reference(torch.tensor(x)), "eval logits")
