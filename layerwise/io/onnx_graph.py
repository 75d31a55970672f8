"""The ONNX graph under construction, and the symbolic values that a traced forward pass
moves through it.

A :class:`Symbol` stands for one tensor of the graph: the name of the ONNX value that
holds it, and the real layerwise ``Tensor`` it equals for the example input. Every
operation on symbols computes the real result (so shapes are always known exactly and
the export can be checked) and appends the ONNX node(s) that compute it. Symbols
support what the zoo's forward passes use between layers: ``+``, ``*``, slicing,
``flatten``, ``relu``, and the ``cat`` / ``pad_channels`` / ``adaptive_avg_pool2d``
helpers of ``layerwise.models.common``.
"""
import numpy as np

from ..autograd import ops
from ..autograd.tensor import Tensor
from ..nn import functional as F


class ExportError(ValueError):
    """The model uses a layer or an operation that the ONNX exporter cannot express."""


class GraphBuilder:
    """Nodes and initializers (weights, constants) of the graph, with unique names."""

    def __init__(self, opset):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes, self.initializers = [], []
        self._used, self._arrays = set(), {}

    def fresh(self, hint):
        """A value or node name not used yet, based on ``hint``."""
        base = (hint or "value").replace("/", ".")
        name, k = base, 1
        while name in self._used:
            k += 1
            name = f"{base}_{k}"
        self._used.add(name)
        return name

    def initializer(self, array, hint):
        """The name of an initializer holding ``array`` (the same array gets one name)."""
        array = array.data if isinstance(array, Tensor) else np.asarray(array)
        key = id(array)
        if key in self._arrays and self._arrays[key][1] is array:
            return self._arrays[key][0]
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        self._arrays[key] = (name, array)
        return name

    def constant(self, values, hint, dtype=np.int64):
        return self.initializer(np.asarray(values, dtype=dtype), hint)

    def add_node(self, op_type, inputs, hint, outputs=1, **attrs):
        """Append a node; returns the name of its output (or the list of names)."""
        names = [self.fresh(hint if k == 0 else f"{hint}.{k}") for k in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names,
                                                name=self.fresh(f"{hint}/{op_type}"), **attrs))
        return names[0] if outputs == 1 else names

    def symbol(self, op_type, inputs, value, hint, **attrs):
        """A node whose single output equals the real ``value``, as a Symbol."""
        return Symbol(self, self.add_node(op_type, inputs, hint, **attrs), value)


def _value(x):
    return x.value if isinstance(x, Symbol) else x


def average_matrix(size_in, size_out, dtype=np.float32):
    """A (size_out, size_in) matrix whose row i averages PyTorch's adaptive window i:
    [floor(i·in/out), ceil((i + 1)·in/out))."""
    matrix = np.zeros((size_out, size_in), dtype)
    for i in range(size_out):
        start, end = (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class Symbol:
    """A tensor of the ONNX graph being traced (see the module docstring)."""

    def __init__(self, graph, name, value):
        self.graph, self.name, self.value = graph, name, value

    # what forward passes inspect
    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.data.dtype

    @property
    def ndim(self):
        return self.value.data.ndim

    def dim(self):
        return self.ndim

    def size(self, dim=None):
        return self.value.size(dim)

    def __repr__(self):
        return f"Symbol({self.name!r}, shape={tuple(self.shape)})"

    # element-wise arithmetic
    def _operand(self, other, hint):
        if isinstance(other, Symbol):
            return other.name
        array = other.data if isinstance(other, Tensor) else np.asarray(other, self.dtype)
        return self.graph.initializer(array.astype(self.dtype, copy=False), hint)

    def _binary(self, op_type, other, value, swap=False):
        other_name = self._operand(other, f"{self.name}.{op_type.lower()}_constant")
        inputs = [other_name, self.name] if swap else [self.name, other_name]
        return self.graph.symbol(op_type, inputs, value, f"{self.name}.{op_type.lower()}")

    def __add__(self, other):
        return self._binary("Add", other, self.value + _value(other))

    def __radd__(self, other):
        return self._binary("Add", other, _value(other) + self.value, swap=True)

    def __sub__(self, other):
        return self._binary("Sub", other, self.value - _value(other))

    def __rsub__(self, other):
        return self._binary("Sub", other, _value(other) - self.value, swap=True)

    def __mul__(self, other):
        return self._binary("Mul", other, self.value * _value(other))

    def __rmul__(self, other):
        return self._binary("Mul", other, _value(other) * self.value, swap=True)

    def __truediv__(self, other):
        return self._binary("Div", other, self.value / _value(other))

    def relu(self):
        return self.graph.symbol("Relu", [self.name], ops.relu(self.value), f"{self.name}.relu")

    # shapes
    def flatten(self, start_dim=0, end_dim=-1):
        value = self.value.flatten(start_dim, end_dim)
        ndim = self.ndim
        start, end = start_dim % ndim, end_dim % ndim
        if start == 1 and end == ndim - 1:
            return self.graph.symbol("Flatten", [self.name], value, f"{self.name}.flatten",
                                     axis=1)
        return self.reshape_like(value, keep_batch=start > 0)

    def reshape_like(self, value, keep_batch=True):
        """Reshape to ``value``'s shape (the batch axis kept symbolic when it is unchanged)."""
        shape = list(value.shape)
        if keep_batch and shape and shape[0] == self.shape[0]:
            shape[0] = 0  # ONNX Reshape: 0 copies the input's dimension (any batch size)
        target = self.graph.constant(shape, f"{self.name}.shape")
        return self.graph.symbol("Reshape", [self.name, target], value, f"{self.name}.reshape")

    def __getitem__(self, index):
        index = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(i, slice) for i in index) or len(index) > self.ndim:
            raise ExportError(f"ONNX export: only slicing with start:stop:step is supported, "
                              f"got index {index!r}")
        value = self.value[index]
        starts, ends, axes, steps = [], [], [], []
        for axis, s in enumerate(index):
            start, stop, step = s.indices(self.shape[axis])
            if (start, stop, step) == (0, self.shape[axis], 1):
                continue
            starts.append(start)
            ends.append(stop)
            axes.append(axis)
            steps.append(step)
        if not axes:
            return self
        g, hint = self.graph, f"{self.name}.slice"
        inputs = [self.name, g.constant(starts, f"{hint}.starts"), g.constant(ends, f"{hint}.ends"),
                  g.constant(axes, f"{hint}.axes"), g.constant(steps, f"{hint}.steps")]
        return g.symbol("Slice", inputs, value, hint)

    # the helpers of layerwise.models.common
    @staticmethod
    def cat(symbols, dim=1):
        symbols = list(symbols)
        first = next(s for s in symbols if isinstance(s, Symbol))
        names = [first._operand(s, f"{first.name}.cat_constant") for s in symbols]
        value = ops.cat([_value(s) for s in symbols], dim)
        return first.graph.symbol("Concat", names, value, f"{first.name}.cat",
                                  axis=dim % first.ndim)

    def pad_channels(self, before, after):
        value = ops.pad(self.value, ((0, 0), (before, after), (0, 0), (0, 0)))
        pads = [0, before, 0, 0, 0, after, 0, 0]
        return self.graph.symbol("Pad", [self.name, self.graph.constant(pads, f"{self.name}.pads")],
                                 value, f"{self.name}.pad", mode="constant")

    def adaptive_avg_pool2d(self, output_size, hint=None):
        value = F.adaptive_avg_pool2d(self.value, output_size)
        hint = hint or f"{self.name}.adaptive_avg_pool"
        (h, w), (oh, ow) = self.shape[2:], value.shape[2:]
        if (oh, ow) == (h, w):
            return Symbol(self.graph, self.name, value)
        if (oh, ow) == (1, 1):
            return self.graph.symbol("GlobalAveragePool", [self.name], value, hint)
        if h % oh == 0 and w % ow == 0:
            kernel = [h // oh, w // ow]
            return self.graph.symbol("AveragePool", [self.name], value, hint,
                                     kernel_shape=kernel, strides=kernel)
        # uneven windows: y = A_h @ x @ A_wᵀ with constant averaging matrices
        g = self.graph
        a_w = g.initializer(average_matrix(w, ow, self.dtype).T.copy(), f"{hint}.columns")
        a_h = g.initializer(average_matrix(h, oh, self.dtype), f"{hint}.rows")
        by_columns = g.add_node("MatMul", [self.name, a_w], f"{hint}.by_columns")
        return g.symbol("MatMul", [a_h, by_columns], value, hint)
