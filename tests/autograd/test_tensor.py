"""Creating tensors: dtypes, conversions, properties, random generation."""
import numpy as np
import pytest
import torch

import layerwise as lw


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.5, [[1, 2], [3, 4]], [True, False],
                                  np.array([1.0, 2.0]), np.array([1, 2], np.int32),
                                  np.array([1.0], np.float32)])
def test_dtypes_follow_torch(data):
    assert lw.tensor(data).dtype == torch.tensor(data).numpy().dtype


def test_tensor_copies_its_data_but_from_numpy_shares_it():
    a = np.zeros(3, np.float32)
    t, shared = lw.tensor(a), lw.from_numpy(a)
    a[0] = 1
    assert t[0].item() == 0 and shared[0].item() == 1


def test_item_numpy_tolist_shape():
    t = lw.tensor([[1.0, 2.0, 3.0]])
    assert t.shape == (1, 3) and t.size(1) == 3 and t.ndim == 2 and t.numel() == 3
    assert t.sum().item() == 6.0
    assert t.tolist() == [[1.0, 2.0, 3.0]]
    assert isinstance(t.numpy(), np.ndarray)
    assert repr(t.shape) == "Size([1, 3])"
    with pytest.raises(ValueError, match="3 elements"):
        t.item()


def test_factories_and_dtypes():
    assert lw.zeros(2, 3).dtype == np.float32 and lw.zeros((2, 3)).shape == (2, 3)
    assert lw.ones(2, dtype=lw.float64).dtype == np.float64
    assert lw.arange(5).dtype == np.int64 and lw.arange(0, 1, 0.25).dtype == np.float32
    assert lw.randn(3, 4).dtype == np.float32 and lw.rand(2).dtype == np.float32
    assert lw.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert lw.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_manual_seed_makes_draws_repeatable():
    lw.manual_seed(123)
    a = lw.randn(5).numpy().copy()
    lw.manual_seed(123)
    np.testing.assert_array_equal(a, lw.randn(5).numpy())


def test_to_and_casts_are_differentiable():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="CPU"):
        x.to("cuda")


def test_repr_mentions_grad_fn():
    x = lw.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)


def test_setitem_on_a_leaf_requiring_grad_is_refused_outside_no_grad():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 3.0
    with lw.no_grad():
        x[0] = 3.0
    assert x.detach()[0].item() == 3.0


def test_bool_of_a_multi_element_tensor_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(lw.tensor([1.0, 2.0]))
