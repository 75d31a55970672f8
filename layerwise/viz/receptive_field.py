"""Receptive fields: how much of the input each layer's units see.

Through a conv or pooling layer with kernel k (dilated: k_eff = d·(k - 1) + 1),
stride s and padding p before the input, per axis:

    j_out = j_in · s                          jump: input pixels between neighbouring units
    r_out = r_in + (k_eff - 1) · j_in          receptive field size, in input pixels
    start_out = start_in + ((k_eff - 1)/2 - p) · j_in

starting from the input itself: j = 1, r = 1, start = 0 (start: the centre of the first
unit's field, in input pixel coordinates; negative when it lies in the padding).
Two 3x3 convs see 5x5, three see 7x7; a 2x2 pool doubles the jump, so every later
layer grows the field twice as fast. After Flatten / Linear / global pooling every
unit sees the whole input.

The walk follows the autograd graph of one forward pass (forward hooks on the leaf
layers record each layer's field on its output). Element-wise layers (activations,
batch norm, dropout) pass the field on; where paths meet (a residual sum, a
concatenation of parallel branches) a unit sees the union of what the paths see,
so the largest field is kept and the row is marked as merging paths.
"""
from dataclasses import dataclass

from .. import nn
from ..autograd.factories import zeros
from ..autograd.grad_mode import enable_grad
from ..nn.functional.conv import conv_padding
from .model_parts import evaluation, frozen_parameters

__all__ = ["LayerField", "receptive_fields", "format_receptive_fields"]

WINDOW_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.SumPool2d)
GLOBAL_LAYERS = (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                 nn.GlobalAvgPool2d)


@dataclass
class LayerField:
    """One row of the table; pairs are (height axis, width axis)."""
    name: str
    kind: str
    kernel: tuple
    stride: tuple
    padding: tuple           # padding before the input, per axis
    output_size: tuple
    jump: tuple
    size: tuple              # receptive field size in input pixels
    start: tuple
    whole_input: bool = False
    merged_paths: int = 1    # how many paths with different fields meet at its input
    ignored_paths: tuple = ()  # layers on paths into it that the walk cannot follow


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _geometry(module):
    """(effective kernel, stride, padding before) per axis of a conv or pooling layer."""
    kernel = _pair(module.kernel_size)
    stride = _pair(module.stride if module.stride is not None else module.kernel_size)
    dilation = _pair(getattr(module, "dilation", 1))
    if isinstance(module.padding, str):
        before = tuple(p[0] for p in conv_padding(module.padding, kernel, stride, dilation))
    else:
        before = _pair(module.padding)
    effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    return effective, stride, before


class _Walk:
    """The field of every tensor a leaf layer produced, keyed by the autograd node that
    produced it: (field, paths merged on the way, layers on the way it cannot follow).
    A field is (jump, size, start, whole input?); None after a layer it cannot follow."""

    def __init__(self, x):
        self.x, self.known = x, {}
        self.base = ((1, 1), (1, 1), (0.0, 0.0), False)

    def field_of(self, tensor):
        """``tensor``'s entry: its own if a layer produced it, else the largest field of its
        nearest ancestors' (where paths meet), ignoring paths it cannot follow."""
        node = tensor.grad_fn
        if node is None:
            return self.base, 1, ()
        if id(node) in self.known:
            return self.known[id(node)]
        fields, unfollowed, stack, seen = set(), (), [node], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if id(node) in self.known:
                field, _, names = self.known[id(node)]
                if field is None:
                    unfollowed += tuple(n for n in names if n not in unfollowed)
                else:
                    fields.add(field)
                continue
            for t in node.inputs:
                if t is not None and t.grad_fn is not None:
                    stack.append(t.grad_fn)
                elif t is self.x:
                    fields.add(self.base)
        if not fields:
            return (None, 0, unfollowed) if unfollowed else (self.base, 1, ())
        return max(fields, key=lambda f: (f[3], f[1])), len(fields), unfollowed

    def record(self, tensor, field, merged=1, unfollowed=()):
        if tensor.grad_fn is not None:
            self.known[id(tensor.grad_fn)] = (field, merged, unfollowed)


def receptive_fields(model, input_size=(1, 28, 28)):
    """A :class:`LayerField` per conv/pool layer (plus the input and the first layer
    after which units see the whole input) for inputs of ``input_size`` (C, H, W).

    A layer of another kind that changes the spatial size (e.g. a strided slice) cannot
    be followed: paths through it are ignored where they meet others (the row says so),
    and a ValueError names it if a conv/pool layer depends on it alone."""
    height, width = input_size[1:]
    rows = [LayerField("(input)", "", (), (), (), (height, width), (1, 1), (1, 1), (0.0, 0.0))]
    x = zeros(1, *input_size, requires_grad=True)
    walk, handles, errors = _Walk(x), [], []

    def hook(module, inputs, output, name):
        output = output[0] if isinstance(output, tuple) else output
        if not inputs or not hasattr(inputs[0], "grad_fn") or not hasattr(output, "grad_fn"):
            return
        field, merged, unfollowed = walk.field_of(inputs[0])
        kind, shape = type(module).__name__, tuple(output.shape)
        counted = isinstance(module, WINDOW_LAYERS + GLOBAL_LAYERS)
        if field is None:
            if counted:
                errors.append(f"receptive field: layer {name!r} ({kind}) depends on layer "
                              f"{unfollowed[0]}, which changes the spatial size and is not a "
                              f"conv or pooling layer the walk can follow")
            walk.record(output, None, 0, unfollowed)
            return
        jump, size, start, whole = field
        if whole:
            walk.record(output, field, merged, unfollowed)
        elif isinstance(module, WINDOW_LAYERS):
            kernel, stride, before = _geometry(module)
            start = tuple(st + ((k - 1) / 2 - p) * j
                          for st, k, p, j in zip(start, kernel, before, jump))
            size = tuple(r + (k - 1) * j for r, k, j in zip(size, kernel, jump))
            jump = tuple(j * s for j, s in zip(jump, stride))
            rows.append(LayerField(name, kind, kernel, stride, before, shape[2:], jump, size,
                                   start, merged_paths=merged, ignored_paths=unfollowed))
            walk.record(output, (jump, size, start, False))
        elif isinstance(module, GLOBAL_LAYERS):
            rows.append(LayerField(name, kind, (), (), (), shape[1:], (), (height, width), (),
                                   whole_input=True, merged_paths=merged,
                                   ignored_paths=unfollowed))
            walk.record(output, (jump, (height, width), start, True))
        elif len(shape) == 4 and shape[2:] != tuple(inputs[0].shape[2:]):
            walk.record(output, None, 0, unfollowed + (f"{name!r} ({kind})",))
        else:
            walk.record(output, field, merged, unfollowed)

    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: hook(m, i, o, name)))
    try:
        with evaluation(model), frozen_parameters(model), enable_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    if errors:
        raise ValueError(errors[0])
    return rows


def _text(pair, number=str):
    return "" if not pair else (number(pair[0]) if pair[0] == pair[1] else
                                "x".join(number(v) for v in pair))


def format_receptive_fields(rows):
    """The table as text: layer, type, kernel, stride, padding, output, jump, field, start."""
    start_text = lambda v: f"{v:g}"  # noqa: E731
    header = ("layer", "type", "kernel", "stride", "padding", "output", "jump",
              "receptive field", "start")
    table = [header]
    for row in rows:
        output = "x".join(str(v) for v in row.output_size)
        field = "whole input" if row.whole_input else "x".join(str(v) for v in row.size) + " px"
        if row.merged_paths > 1:
            field += f" ({row.merged_paths} paths meet: the largest)"
        if row.ignored_paths:
            field += f" (ignores the path through {', '.join(row.ignored_paths)})"
        table.append((row.name, row.kind, _text(row.kernel), _text(row.stride),
                      _text(row.padding), output, _text(row.jump), field,
                      _text(row.start, start_text)))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("r_out = r_in + (k - 1)·j_in,  j_out = j_in·s,  "
                 "start_out = start_in + ((k - 1)/2 - p)·j_in")
    return "\n".join(lines)
