"""The backward pass: order, accumulation, graph freeing, no_grad, hooks, deep graphs."""
import numpy as np
import pytest

import layerwise as lw
from layerwise.nn import Parameter


def test_ten_thousand_op_chain_does_not_hit_the_recursion_limit():
    x = lw.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_diamond_graph_sums_both_paths():
    x = lw.tensor(3.0, requires_grad=True)
    a = x * x        # 2x
    b = x * 4.0      # 4
    (a + b).backward()
    assert x.grad.item() == 10.0


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    w = lw.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 6.0])
    w.grad = None
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def test_backward_twice_through_the_same_graph_needs_retain_graph():
    x = lw.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_leaf_gradients_own_their_memory():
    a = lw.tensor([1.0, 2.0], requires_grad=True)
    b = lw.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()          # both receive the same upstream array
    a.grad.data *= 10                 # in-place clipping of one must not touch the other
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_same_tensor_used_twice_as_operand():
    a = lw.tensor([1.0, 2.0], requires_grad=True)
    (a + a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_no_grad_builds_no_graph_and_decorates_functions():
    x = lw.tensor(1.0, requires_grad=True)
    with lw.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @lw.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert lw.is_grad_enabled()
    with lw.no_grad():
        with lw.enable_grad():
            assert (x * 2).requires_grad


def test_non_scalar_backward_needs_a_gradient():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(lw.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        lw.tensor(1.0).backward()


def test_retain_grad_keeps_intermediate_gradients():
    x = lw.tensor(2.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).backward()
    assert h.grad.item() == 12.0 and x.grad.item() == 36.0


def test_hooks_can_read_and_replace_gradients():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 2
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_post_accumulate_grad_hook_fires_once_per_leaf():
    p = Parameter(np.ones(3, np.float32))
    calls = []
    p.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().sum()))
    (p * 2).sum().backward()
    assert calls == [6.0]


def test_detach_cuts_the_graph_and_shares_memory():
    x = lw.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * d
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_numpy_of_a_tensor_requiring_grad_is_refused():
    x = lw.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()


def test_gradient_dtype_follows_the_tensor():
    x = lw.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 2.0).sum().backward()
    assert x.grad.dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        lw.tensor([1, 2], requires_grad=True)


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(lw.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x  # should be 2x

    x = lw.tensor(np.array([1.5, -2.0]), requires_grad=True)
    assert not lw.gradcheck(WrongSquare.apply, (x,), raise_exception=False)
    with pytest.raises(AssertionError, match="finite differences"):
        lw.gradcheck(WrongSquare.apply, (x,))
    with pytest.raises(ValueError, match="float64"):
        lw.gradcheck(WrongSquare.apply, (lw.tensor([1.0], requires_grad=True),))


def test_a_leaf_used_on_several_paths_gets_one_summed_gradient_and_one_hook_call():
    w = Parameter(np.array([1.0, 2.0], np.float32))
    seen, posts = [], []
    w.register_hook(lambda g: seen.append(g.numpy().copy()))
    w.register_post_accumulate_grad_hook(lambda t: posts.append(t.grad.numpy().copy()))
    ((w * 2).sum() + (w * w).sum() + w.sum()).backward()
    expected = 2 + 2 * np.array([1.0, 2.0]) + 1
    assert len(seen) == 1 and len(posts) == 1      # PyTorch: hooks see the total, once
    np.testing.assert_allclose(seen[0], expected)
    np.testing.assert_allclose(w.grad.numpy(), expected)
