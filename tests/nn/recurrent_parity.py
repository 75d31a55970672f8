"""Running a layerwise recurrent module and its PyTorch twin on the same data, and comparing
outputs, final states and the gradients of inputs, initial states and every parameter."""
import numpy as np
import torch

import layerwise as lw
from layerwise import nn
from tests.helpers import assert_close

TORCH_CLASSES = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU,
                 "RNNCell": torch.nn.RNNCell, "LSTMCell": torch.nn.LSTMCell,
                 "GRUCell": torch.nn.GRUCell}


def twins(kind, *args, dtype=np.float32, seed=0, **kwargs):
    """(layerwise module, torch module) with the same weights (torch's, loaded strictly)."""
    torch.manual_seed(seed)
    reference = TORCH_CLASSES[kind](*args, **kwargs)
    if dtype == np.float64:
        reference = reference.double()
    ours = getattr(nn, kind)(*args, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in
                          reference.state_dict().items()}, strict=True)
    return ours, reference


def flatten(value):
    """Nested tuples of tensors / PackedSequences as a flat list of tensors."""
    if isinstance(value, (tuple, list)) and not hasattr(value, "batch_sizes"):
        return [t for v in value for t in flatten(v)]
    if hasattr(value, "batch_sizes"):  # a PackedSequence: compare its data
        return [value.data]
    return [value]


def run_both(ours, reference, inputs, call, seed=0, atol=1e-5, rtol=1e-4):
    """``call(module, tensors, framework)`` on both; compares values and all gradients.

    ``inputs`` are float ndarrays (made tensors that require grad) or other objects
    passed as they are. Returns the layerwise outputs (flattened).
    """
    lw_in = [lw.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
             else a for a in inputs]
    torch_in = [torch.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and
                a.dtype.kind == "f" else a for a in inputs]
    lw_out = flatten(call(ours, lw_in, "lw"))
    torch_out = flatten(call(reference, torch_in, "torch"))
    assert len(lw_out) == len(torch_out)
    rng = np.random.default_rng(seed + 7)
    lw_loss, torch_loss = 0, 0
    for k, (lo, to) in enumerate(zip(lw_out, torch_out)):
        assert_close(lo, to, atol, rtol, what=f"output {k}")
        projection = rng.standard_normal(tuple(to.shape)).astype(lo.data.dtype)
        lw_loss = lw_loss + (lo * lw.tensor(projection)).sum()
        torch_loss = torch_loss + (to * torch.from_numpy(projection)).sum()
    lw_loss.backward()
    torch_loss.backward()
    for k, (li, ti) in enumerate(zip(lw_in, torch_in)):
        if isinstance(ti, torch.Tensor) and ti.requires_grad:
            expected = ti.grad if ti.grad is not None else torch.zeros_like(ti)
            actual = li.grad if li.grad is not None else np.zeros(li.shape, li.dtype)
            assert_close(actual, expected, atol, rtol, what=f"gradient of input {k}")
    ours_params = dict(ours.named_parameters())
    for name, tp in reference.named_parameters():
        assert_close(ours_params[name].grad, tp.grad, atol, rtol, what=f"gradient of {name}")
    return lw_out
