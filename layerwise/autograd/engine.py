"""The backward pass: reverse-mode differentiation over the recorded graph.

Nodes are ``Function`` instances; each tensor produced by an operation points to
its node (``tensor.grad_fn``), each node to its input tensors. ``backward`` sorts
the nodes reachable from the output in topological order with an explicit stack
(no recursion, so a 10,000-op chain is fine), then walks them from the output
back to the leaves, applying the chain rule

    dL/d(input) = backward(dL/d(output))

and summing the contributions a tensor receives along several paths. A leaf that
requires grad receives its summed gradient once, when its last contribution has
arrived (the sort counts its uses): its hooks run once per backward, and it is
added to ``.grad`` (PyTorch's semantics: a second ``backward`` adds to what is
there until ``zero_grad``).
"""
import numpy as np


def _topological_order(root):
    """(nodes reachable from ``root``, each after all nodes that consume it;
    the number of gradients each leaf will receive, by id)."""
    order, visited, leaf_uses = [], set(), {}
    stack = [(root, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for t, needed in zip(fn.inputs, fn.needs_input_grad):
            if t is None:
                continue
            if t._grad_fn is None:
                if needed:
                    leaf_uses[id(t)] = leaf_uses.get(id(t), 0) + 1
            elif id(t._grad_fn) not in visited:
                stack.append((t._grad_fn, False))
    order.reverse()
    return order, leaf_uses


def _owned(g, handed_out):
    """``g`` itself if nobody else holds it, else a copy (a leaf's grad owns its memory)."""
    if g.base is not None or id(g) in handed_out:
        return g.copy()
    handed_out.add(id(g))
    return g


def _accumulate_leaf(leaf, g, handed_out, make_tensor):
    for hook in leaf._hooks or ():
        new = hook(make_tensor(g))
        if new is not None:
            g = new.data
    if leaf.grad is None:
        leaf.grad = make_tensor(_owned(g, handed_out))
    else:
        leaf.grad.data = leaf.grad.data + g
    for hook in leaf._post_hooks or ():
        hook(leaf)


def run_backward(tensor, grad, retain_graph, make_tensor):
    """Backpropagate ``grad`` (an ndarray shaped like ``tensor``) through the graph."""
    handed_out = {id(grad)}
    if tensor._grad_fn is None:
        _accumulate_leaf(tensor, grad, handed_out, make_tensor)
        return
    grads = {tensor._grad_fn: grad}
    order, leaf_uses = _topological_order(tensor._grad_fn)
    pending = {}   # id(leaf) -> [leaf, summed gradient or None, contributions so far]

    def deliver(leaf, g):
        entry = pending.get(id(leaf))
        if entry is None:
            entry = pending[id(leaf)] = [leaf, None, 0]
        if g is not None:
            entry[1] = g if entry[1] is None else entry[1] + g
        entry[2] += 1
        if entry[2] == leaf_uses[id(leaf)]:
            del pending[id(leaf)]
            if entry[1] is not None:
                _accumulate_leaf(leaf, entry[1], handed_out, make_tensor)

    for fn in order:
        g = grads.pop(fn, None)
        if g is None:
            continue
        if getattr(fn, "released", False):
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to access saved "
                "values after they have been freed). Pass retain_graph=True to the first "
                "backward() if you need to backward twice.")
        retained = fn.__dict__.get("retained_output")
        if retained is not None:
            for hook in retained._hooks or ():
                new = hook(make_tensor(g))
                if new is not None:
                    g = new.data
            if retained._retains_grad:
                if retained.grad is None:
                    retained.grad = make_tensor(_owned(g, handed_out))
                else:
                    retained.grad.data = retained.grad.data + g
        input_grads = fn.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        inputs = fn.inputs
        if len(input_grads) != len(inputs):
            raise RuntimeError(f"{fn.name}.backward returned {len(input_grads)} gradients "
                               f"for {len(inputs)} inputs")
        for t, gi, needed in zip(inputs, input_grads, fn.needs_input_grad):
            if not needed:
                continue
            if gi is None:
                if t._grad_fn is None:
                    deliver(t, None)
                continue
            if gi.shape != t.data.shape:
                raise RuntimeError(f"{fn.name}.backward returned a gradient of shape "
                                   f"{gi.shape} for an input of shape {t.data.shape}")
            if gi.dtype != t.data.dtype:
                gi = gi.astype(t.data.dtype)
            child = t._grad_fn
            if child is None:
                deliver(t, gi)
            elif child in grads:
                grads[child] = grads[child] + gi
            else:
                grads[child] = gi
        if not retain_graph:
            fn.release()
    for leaf, g, _ in list(pending.values()):   # a graph freed mid-walk: flush what arrived
        if g is not None:
            _accumulate_leaf(leaf, g, handed_out, make_tensor)


def default_grad(tensor):
    """The implicit ``dL/dL = 1`` of ``loss.backward()``; only defined for one element."""
    if tensor.data.size != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs; got shape "
            f"{tuple(tensor.shape)}: pass a gradient, e.g. out.backward(lw.ones_like(out))")
    return np.ones(tensor.data.shape, dtype=tensor.data.dtype)
