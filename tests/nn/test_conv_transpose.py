"""F.conv_transpose2d and nn.ConvTranspose2d: PyTorch parity over strides, paddings, output
paddings, dilations, groups and non-square shapes; gradients; errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, assert_matches_torch, assert_module_matches_torch, random

# input shape, weight shape (C_in, C_out/groups, kh, kw), keyword arguments
CONFIGS = {
    "plain": ((2, 3, 5, 5), (3, 4, 3, 3), {}),
    "stride 2": ((2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2)),
    "stride 3": ((2, 2, 3, 4), (2, 3, 2, 2), dict(stride=3)),
    "stride 2 pad 1 out-pad 1": ((2, 3, 7, 7), (3, 2, 3, 3), dict(stride=2, padding=1,
                                                                  output_padding=1)),
    "dcgan 4/2/1": ((2, 4, 7, 7), (4, 3, 4, 4), dict(stride=2, padding=1)),
    "stride 3 out-pad 2": ((1, 2, 4, 3), (2, 2, 3, 3), dict(stride=3, padding=1,
                                                            output_padding=2)),
    "non-square": ((2, 3, 4, 6), (3, 2, 2, 4), dict(stride=(2, 3), padding=(1, 2),
                                                    output_padding=(1, 0))),
    "dilation": ((2, 2, 5, 4), (2, 3, 3, 2), dict(dilation=(2, 3), padding=1)),
    "out-pad from dilation": ((2, 2, 4, 4), (2, 2, 3, 3), dict(dilation=3, output_padding=2)),
    "groups": ((2, 4, 5, 5), (4, 3, 3, 3), dict(groups=2, stride=2, padding=1,
                                                output_padding=1)),
    "depthwise": ((2, 3, 4, 4), (3, 1, 3, 3), dict(groups=3, stride=(1, 2))),
    "1x1": ((2, 5, 4, 3), (5, 2, 1, 1), {}),
    "z to 7x7": ((3, 6, 1, 1), (6, 4, 7, 7), {}),
}


def _lw(kwargs):
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kwargs)


def _torch(kwargs):
    return lambda x, w, b=None: torch.nn.functional.conv_transpose2d(x, w, b, **kwargs)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_conv_transpose2d_matches_torch(name, bias):
    x_shape, w_shape, kwargs = CONFIGS[name]
    groups = kwargs.get("groups", 1)
    arrays = [random(*x_shape, seed=1), random(*w_shape, seed=2)]
    if bias:
        arrays.append(random(w_shape[1] * groups, seed=3))
    outs, _ = assert_matches_torch(_lw(kwargs), _torch(kwargs), *arrays)
    assert outs[0].dtype == np.float32


@pytest.mark.parametrize("name", ["stride 2 pad 1 out-pad 1", "out-pad from dilation",
                                  "groups", "non-square"])
def test_conv_transpose2d_gradcheck(name):
    x_shape, w_shape, kwargs = CONFIGS[name]
    groups = kwargs.get("groups", 1)
    assert_gradcheck(_lw(kwargs), random(*x_shape, seed=4, dtype=np.float64),
                     random(*w_shape, seed=5, dtype=np.float64),
                     random(w_shape[1] * groups, seed=6, dtype=np.float64))


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(u), v> = <u, conv_transpose(v)> for the same weight."""
    u, v = random(2, 3, 9, 8, seed=1, dtype=np.float64), random(2, 4, 5, 4, seed=2,
                                                                dtype=np.float64)
    w = random(4, 3, 3, 3, seed=3, dtype=np.float64)
    conv = F.conv2d(lw.tensor(u), lw.tensor(w), stride=2, padding=1).numpy()
    back = F.conv_transpose2d(lw.tensor(v), lw.tensor(w), stride=2, padding=1,
                              output_padding=(0, 1)).numpy()
    assert np.isclose((conv * v).sum(), (u * back).sum())


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1, output_padding=1),
                                    dict(groups=2, bias=False, dilation=2)])
def test_layer_matches_torch_with_its_state_dict(kwargs):
    lw.manual_seed(0)
    layer = nn.ConvTranspose2d(4, 6, 3, **kwargs)
    reference = torch.nn.ConvTranspose2d(4, 6, 3, **kwargs)
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert_module_matches_torch(layer, reference, random(2, 4, 5, 5, seed=7))


def test_default_init_matches_torch_range():
    lw.manual_seed(0)
    layer = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
    bound = 1 / np.sqrt(32 * 16)  # fan_in = weight.shape[1] * kh * kw, as PyTorch computes it
    w = layer.weight.data
    assert w.shape == (64, 32, 4, 4) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(layer.bias.data).max() <= bound


def test_output_size_argument_picks_the_output_padding():
    lw.manual_seed(0)
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    reference = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    layer.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    x = random(1, 2, 4, 4, seed=1)
    out = layer(lw.tensor(x), output_size=(8, 7))
    expected = reference(torch.tensor(x), output_size=(8, 7)).detach().numpy()
    assert out.shape == (1, 3, 8, 7)
    np.testing.assert_allclose(out.data, expected, atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes"):
        layer(lw.tensor(x), output_size=(10, 10))


def test_clear_errors():
    with pytest.raises(ValueError, match="output padding must be smaller than either stride"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d: expected input with 4 channels"):
        nn.ConvTranspose2d(4, 2, 3)(lw.zeros(1, 3, 5, 5))
    with pytest.raises(RuntimeError, match="4-D input"):
        nn.ConvTranspose2d(4, 2, 3)(lw.zeros(4, 5, 5))
