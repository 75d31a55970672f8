"""A Keras-style table of a model: layer, output shape, parameter count, totals."""
import numpy as np

from ..autograd.factories import zeros
from ..autograd.grad_mode import no_grad


def _is_leaf(module):
    return not any(True for _ in module.children())


def summary(model, input_size=None, batch_size=1, dtype=np.float32):
    """The table as a string; ``input_size`` excludes the batch, e.g. (1, 28, 28).

    Models whose input is not an image of floats (token ids, say) define
    ``example_input(batch_size)``; it is used when ``input_size`` is not given.

    Runs one forward pass (eval mode, no gradients) with hooks on the leaf layers to
    record their output shapes. Totals count parameters (PyTorch's convention);
    running statistics of batch norm are buffers and listed apart.
    """
    rows, handles = [], []
    for name, module in model.named_modules():
        if name and _is_leaf(module):
            def hook(mod, inputs, output, name=name):
                first = output[0] if isinstance(output, (tuple, list)) and output else output
                shape = first.shape if hasattr(first, "shape") else type(output).__name__
                params = sum(p.data.size for p in mod.parameters(recurse=False))
                rows.append((f"{name} ({type(mod).__name__})", shape, params))
            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            example = getattr(model, "example_input", None)
            if input_size is None and example is not None:
                model(example(batch_size))
            else:
                model(zeros(batch_size, *(input_size or (1, 28, 28)), dtype=dtype))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = list(model.parameters())
    total = sum(p.data.size for p in params)
    trainable = sum(p.data.size for p in params if p.requires_grad)
    buffers = sum(b.data.size for b in model.buffers() if b.data.dtype.kind == "f")
    width = max([len(r[0]) for r in rows] + [20]) + 2
    line = "=" * (width + 40)
    out = [f"Model: {getattr(model, 'name', type(model).__name__)}", line,
           f"{'Layer (type)':<{width}}{'Output Shape':<26}{'Param #':>14}", line]
    for label, shape, count in rows:
        shape_text = str(tuple(shape)).replace(f"({batch_size},", "(None,", 1) \
            if isinstance(shape, tuple) else str(shape)
        out.append(f"{label:<{width}}{shape_text:<26}{count:>14,}")
    out += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}"]
    if buffers:
        out.append(f"Buffers (e.g. batch-norm running statistics): {buffers:,}")
    out.append(line)
    return "\n".join(out)
