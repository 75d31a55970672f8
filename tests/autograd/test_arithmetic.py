"""+ - * / ** @ and unary minus: PyTorch parity with broadcasting, and gradchecks."""
import operator

import numpy as np
import pytest
import torch

import layerwise as lw
from tests.helpers import assert_gradcheck, assert_matches_torch, random

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "div": operator.truediv}
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (5,))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a,shape_b", SHAPES)
def test_binary_matches_torch_with_broadcasting(name, shape_a, shape_b):
    op = BINARY[name]
    a = random(*shape_a, seed=1)
    b = random(*shape_b, seed=2) + (3.0 if name == "div" else 0.0)
    assert_matches_torch(op, op, a, b)


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name):
    op = BINARY[name]
    assert_gradcheck(op, random(2, 3, seed=1), random(3, seed=2) + 3.0)


@pytest.mark.parametrize("name", BINARY)
def test_python_scalars_on_both_sides_keep_float32(name):
    op = BINARY[name]
    x = random(2, 3, seed=3) + 3.0
    assert_matches_torch(lambda t: op(t, 2.5), lambda t: op(t, 2.5), x)
    assert_matches_torch(lambda t: op(2.5, t), lambda t: op(2.5, t), x)
    assert op(lw.tensor(x), 2.5).dtype == np.float32


def test_numpy_array_on_the_left_uses_the_tensor_operator():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, lw.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("exponent", [2, 3.0, 0.5, -1.5])
def test_pow_scalar_exponent(exponent):
    x = random(3, 4, low=0.5, high=2.0)
    assert_matches_torch(lambda t: t ** exponent, lambda t: t ** exponent, x)
    assert_gradcheck(lambda t: t ** exponent, x)


def test_pow_tensor_exponent_and_rpow():
    base, exponent = random(3, 4, low=0.5, high=2.0), random(3, 4, seed=5)
    assert_matches_torch(lambda a, b: a ** b, lambda a, b: a ** b, base, exponent)
    assert_gradcheck(lambda a, b: a ** b, base, exponent)
    assert_matches_torch(lambda b: 2.0 ** b, lambda b: 2.0 ** b, exponent)


def test_pow_gradient_of_exponent_is_zero_at_zero_base_like_torch():
    assert_matches_torch(lambda a, b: a ** b, lambda a, b: a ** b,
                         np.array([0.0, 1.0, 2.0], np.float32), np.array([2.0, 2.0, 0.5], np.float32))


def test_neg():
    x = random(4, 5)
    assert_matches_torch(lambda t: -t, lambda t: -t, x)
    assert_gradcheck(lambda t: -t, x)


@pytest.mark.parametrize("shape_a,shape_b", [
    ((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((5, 2, 3, 4), (4,))])
def test_matmul_shapes_match_torch(shape_a, shape_b):
    a, b = random(*shape_a, seed=1), random(*shape_b, seed=2)
    assert_matches_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    assert_gradcheck(lambda x, y: x @ y, a, b)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3, 4\) and \(5, 2\)"):
        lw.randn(3, 4) @ lw.randn(5, 2)


def test_matmul_dtype_mismatch_is_an_error():
    with pytest.raises(RuntimeError, match="float32 and float64"):
        lw.randn(3, 4) @ lw.tensor(np.ones((4, 2)))


def test_in_place_operators_without_graph_modify_the_tensor():
    t = lw.tensor([1.0, 2.0])
    alias = t
    t += 1
    t *= 2
    assert alias is t
    np.testing.assert_allclose(t.numpy(), [4.0, 6.0])


def test_in_place_operators_on_graph_tensors_stay_differentiable():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y += x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_comparisons_give_boolean_tensors():
    x = lw.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == 2.0).tolist() == [False, True, False]
    assert (x <= torch.tensor(2.0).item()).tolist() == [True, True, False]
