"""Export a model to ONNX (needs the ``onnx`` package: ``pip install layerwise[onnx]``).

    from layerwise.io import export_onnx
    export_onnx(model, "resnet18.onnx", input_size=(3, 224, 224))

How: a *tracing* export. The model runs forward once, in eval mode, on a symbolic input
(:class:`~layerwise.io.onnx_graph.Symbol`, which carries a real example tensor along):

- each known layer (``Conv2d``, ``Linear``, ``BatchNorm*``, activations, poolings,
  ``Flatten``, ``Dropout``, ``LocalResponseNorm``, ``LayerNorm``...) is intercepted
  and emits its ONNX node(s), named after the layer (weights keep their state_dict
  names);
- containers and the zoo's blocks (``Sequential``, ``BasicBlock``, ``Inception``,
  ``DenseBlock``, ``ResNet``...) just run their own forward, whose operations between
  layers (``+``, ``cat``, slicing, ``flatten``) the symbols record.

So one mechanism covers the Sequential models and the ones with a branching forward
(ResNet, GoogLeNet, DenseNet) without a per-architecture exporter, and the graph is
the forward that actually ran for the example (Python control flow is unrolled, as in
``torch.onnx`` tracing). A layer the exporter does not know fails with an error naming
it. The batch axis stays dynamic; the other input dimensions are those of the example.
Dropout is the identity (inference graph). Opset 17 by default.
"""
import numpy as np

from .. import nn
from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from .onnx_graph import ExportError, GraphBuilder, Symbol
from .safetensors_io import atomic_write_bytes

__all__ = ["export_onnx", "to_onnx", "run_onnx", "check_onnx", "ExportError", "LAYER_EXPORTERS"]

DEFAULT_OPSET = 17


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _same(module, x):
    """Compute ``module``'s real output for the symbol ``x`` (its class's own forward)."""
    return type(module).forward(module, x.value)


# ------------------------------------------------------------ layer exporters
def _conv2d(g, name, m, x):
    kernel, dilation = m.kernel_size, m.dilation
    if isinstance(m.padding, str):
        totals = [0, 0] if m.padding == "valid" else [d * (k - 1) for k, d in zip(kernel, dilation)]
        before = [t // 2 for t in totals]
        pads = before + [t - b for t, b in zip(totals, before)]
    else:
        pads = list(m.padding) * 2
    inputs = [x.name, g.initializer(m.weight, f"{name}.weight")]
    if m.bias is not None:
        inputs.append(g.initializer(m.bias, f"{name}.bias"))
    return g.symbol("Conv", inputs, _same(m, x), name, kernel_shape=list(kernel),
                    strides=list(m.stride), pads=pads, dilations=list(dilation), group=m.groups)


def _linear(g, name, m, x):
    value = _same(m, x)
    weight = g.initializer(m.weight, f"{name}.weight")
    if x.ndim == 2:
        inputs = [x.name, weight] + ([g.initializer(m.bias, f"{name}.bias")] if m.bias is not None
                                     else [])
        return g.symbol("Gemm", inputs, value, name, transB=1)
    transposed = g.initializer(np.ascontiguousarray(m.weight.data.T), f"{name}.weight_t")
    if m.bias is None:
        return g.symbol("MatMul", [x.name, transposed], value, name)
    product = g.add_node("MatMul", [x.name, transposed], f"{name}.matmul")
    return g.symbol("Add", [product, g.initializer(m.bias, f"{name}.bias")], value, name)


def _batch_norm(g, name, m, x):
    if m.running_mean is None:
        raise ExportError(f"ONNX export: {name} ({type(m).__name__}) has no running statistics "
                          f"(track_running_stats=False), so it has no inference form")
    channels = m.num_features
    dtype = m.running_mean.data.dtype
    scale = m.weight if m.weight is not None else np.ones(channels, dtype)
    bias = m.bias if m.bias is not None else np.zeros(channels, dtype)
    inputs = [x.name, g.initializer(scale, f"{name}.weight"), g.initializer(bias, f"{name}.bias"),
              g.initializer(m.running_mean, f"{name}.running_mean"),
              g.initializer(m.running_var, f"{name}.running_var")]
    return g.symbol("BatchNormalization", inputs, _same(m, x), name, epsilon=float(m.eps))


def _layer_norm(g, name, m, x):
    dtype = x.dtype
    scale = m.weight if m.weight is not None else np.ones(m.normalized_shape, dtype)
    bias = m.bias if m.bias is not None else np.zeros(m.normalized_shape, dtype)
    inputs = [x.name, g.initializer(scale, f"{name}.weight"), g.initializer(bias, f"{name}.bias")]
    return g.symbol("LayerNormalization", inputs, _same(m, x), name,
                    axis=-len(m.normalized_shape), epsilon=float(m.eps))


def _unary(op_type, **attrs):
    def export(g, name, m, x):
        extra = {k: (v(m) if callable(v) else v) for k, v in attrs.items()}
        return g.symbol(op_type, [x.name], _same(m, x), name, **extra)
    return export


def _clip(g, name, m, x):
    low = g.initializer(np.asarray(m.min_val, x.dtype), f"{name}.min")
    high = g.initializer(np.asarray(m.max_val, x.dtype), f"{name}.max")
    return g.symbol("Clip", [x.name, low, high], _same(m, x), name)


def _gelu(g, name, m, x):
    if m.approximate != "none":
        raise ExportError(f"ONNX export: {name}: GELU(approximate={m.approximate!r}) is not "
                          f"supported, only the exact form")
    # 0.5 · x · (1 + erf(x / √2)), opset 13 operators
    half = g.initializer(np.asarray(0.5, x.dtype), f"{name}.half")
    one = g.initializer(np.asarray(1.0, x.dtype), f"{name}.one")
    root = g.initializer(np.asarray(np.sqrt(2.0), x.dtype), f"{name}.sqrt2")
    erf = g.add_node("Erf", [g.add_node("Div", [x.name, root], f"{name}.scaled")], f"{name}.erf")
    gate = g.add_node("Mul", [g.add_node("Add", [erf, one], f"{name}.gate"), half],
                      f"{name}.half_gate")
    return g.symbol("Mul", [x.name, gate], _same(m, x), name)


def _softmax(op_type):
    def export(g, name, m, x):
        if m.dim is None:
            raise ExportError(f"ONNX export: {name}: {type(m).__name__} needs an explicit dim")
        return g.symbol(op_type, [x.name], _same(m, x), name, axis=int(m.dim) % x.ndim)
    return export


def _identity(g, name, m, x):
    return x


def _flatten(g, name, m, x):
    return x.flatten(m.start_dim, m.end_dim)


def _unflatten(g, name, m, x):
    return x.reshape_like(_same(m, x), keep_batch=m.dim % x.ndim != 0)


def _pool_pads(x, value, kernel, stride, padding, dilation=(1, 1)):
    """Explicit [top, left, bottom, right] pads giving ``value``'s output size in floor
    mode: ceil mode becomes extra padding at the end (never part of a max)."""
    before, after = [], []
    for axis in range(2):
        size, out = x.shape[2 + axis], value.shape[2 + axis]
        needed = (out - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        before.append(padding[axis])
        after.append(max(padding[axis], needed - size - padding[axis]))
    return before + after


def _max_pool(g, name, m, x):
    if m.return_indices:
        raise ExportError(f"ONNX export: {name}: MaxPool2d(return_indices=True) is not supported")
    value = _same(m, x)
    kernel, stride = _pair(m.kernel_size), _pair(m.stride)
    dilation, padding = _pair(m.dilation), _pair(m.padding)
    return g.symbol("MaxPool", [x.name], value, name, kernel_shape=list(kernel),
                    strides=list(stride), dilations=list(dilation),
                    pads=_pool_pads(x, value, kernel, stride, padding, dilation))


def _avg_pool(g, name, m, x, divide=True):
    value = _same(m, x)
    kernel, stride, padding = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    pads = _pool_pads(x, value, kernel, stride, padding)
    if pads[2:] != list(padding) or getattr(m, "divisor_override", None) is not None:
        raise ExportError(f"ONNX export: {name}: {type(m).__name__} with windows past the input "
                          f"(ceil_mode) or divisor_override is not supported")
    include = int(getattr(m, "count_include_pad", True)) if divide else 1
    attrs = dict(kernel_shape=list(kernel), strides=list(stride), pads=pads,
                 count_include_pad=include)
    if divide:
        return g.symbol("AveragePool", [x.name], value, name, **attrs)
    mean = g.add_node("AveragePool", [x.name], f"{name}.mean", **attrs)
    area = g.initializer(np.asarray(kernel[0] * kernel[1], x.dtype), f"{name}.area")
    return g.symbol("Mul", [mean, area], value, name)


def _adaptive_avg_pool(g, name, m, x):
    return x.adaptive_avg_pool2d(m.output_size, hint=name)


def _adaptive_max_pool(g, name, m, x):
    value = _same(m, x)
    (h, w), (oh, ow) = x.shape[2:], value.shape[2:]
    if m.return_indices or h % oh or w % ow:
        raise ExportError(f"ONNX export: {name}: AdaptiveMaxPool2d is supported only when the "
                          f"output size divides the input size, without return_indices")
    if (oh, ow) == (1, 1):
        return g.symbol("GlobalMaxPool", [x.name], value, name)
    kernel = [h // oh, w // ow]
    return g.symbol("MaxPool", [x.name], value, name, kernel_shape=kernel, strides=kernel)


def _global_avg_pool(g, name, m, x):
    pooled = g.add_node("GlobalAveragePool", [x.name], f"{name}.pool")
    return g.symbol("Flatten", [pooled], _same(m, x), name, axis=1)


def _local_response_norm(g, name, m, x):
    if m.size % 2 == 0:
        raise ExportError(f"ONNX export: {name}: LocalResponseNorm with an even size "
                          f"({m.size}) centres its window differently in ONNX's LRN")
    return g.symbol("LRN", [x.name], _same(m, x), name, size=int(m.size), alpha=float(m.alpha),
                    beta=float(m.beta), bias=float(m.k))


#: layer class -> exporter(graph, name, module, symbol) -> symbol; subclasses match too
LAYER_EXPORTERS = {
    nn.Conv2d: _conv2d, nn.Linear: _linear, nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm, nn.LayerNorm: _layer_norm,
    nn.ReLU: _unary("Relu"), nn.Sigmoid: _unary("Sigmoid"), nn.Tanh: _unary("Tanh"),
    nn.LeakyReLU: _unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    nn.ELU: _unary("Elu", alpha=lambda m: float(m.alpha)), nn.GELU: _gelu,
    nn.Hardtanh: _clip, nn.Softmax: _softmax("Softmax"), nn.LogSoftmax: _softmax("LogSoftmax"),
    nn.Identity: _identity, nn.Dropout: _identity, nn.Dropout1d: _identity,
    nn.Dropout2d: _identity, nn.AlphaDropout: _identity,
    nn.Flatten: _flatten, nn.Unflatten: _unflatten,
    nn.MaxPool2d: _max_pool, nn.AvgPool2d: _avg_pool,
    nn.SumPool2d: lambda g, name, m, x: _avg_pool(g, name, m, x, divide=False),
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool, nn.AdaptiveMaxPool2d: _adaptive_max_pool,
    nn.GlobalAvgPool2d: _global_avg_pool, nn.LocalResponseNorm: _local_response_norm,
}


def _exporter_for(module):
    for cls in type(module).__mro__:
        if cls in LAYER_EXPORTERS:
            return LAYER_EXPORTERS[cls]
    return None


# ------------------------------------------------------------------ tracing
def _intercept(graph, name, module, exporter):
    def forward(*args, **kwargs):
        if not any(isinstance(a, Symbol) for a in args):
            return type(module).forward(module, *args, **kwargs)
        if exporter is None:  # a leaf layer without exporter: its forward must use symbols
            try:
                return type(module).forward(module, *args, **kwargs)
            except ExportError:
                raise
            except Exception as err:
                raise ExportError(f"ONNX export: no exporter for layer {name!r} "
                                  f"({type(module).__name__}) and its forward does not run on "
                                  f"symbolic values ({type(err).__name__}: {err})") from err
        return exporter(graph, name, module, *args, **kwargs)
    return forward


def trace(model, example, opset=DEFAULT_OPSET, input_name="input"):
    """Run ``model`` once on a symbolic version of ``example``: (graph, input, outputs)."""
    graph = GraphBuilder(opset)
    graph._used.add(input_name)
    patched = []
    for name, module in model.named_modules():
        exporter = _exporter_for(module)
        if exporter is None and any(True for _ in module.children()):
            continue  # a container or block: its own forward runs on the symbols
        object.__setattr__(module, "forward", _intercept(graph, name or "model", module,
                                                         exporter))
        patched.append(module)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            source = Symbol(graph, input_name, example)
            out = model(source)
    finally:
        for module in patched:
            module.__dict__.pop("forward", None)
        model.train(was_training)
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(isinstance(o, Symbol) for o in outputs):
        raise ExportError("ONNX export: the model's output does not depend on its input "
                          "through layers the exporter could follow")
    return graph, source, outputs


def to_onnx(model, example=None, input_size=None, opset=DEFAULT_OPSET, input_name="input",
            output_name="output", dynamic_batch=True, seed=0):
    """The ONNX ``ModelProto`` of ``model`` for inputs like ``example`` (a Tensor or array),
    or, if None, a random batch of one with shape ``input_size`` (C, H, W)."""
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'layerwise[onnx]' "
                          "(or pip install onnx)") from None
    if example is None:
        if input_size is None:
            raise ValueError("to_onnx: give an example input or input_size=(C, H, W)")
        example = np.random.default_rng(seed).standard_normal((1,) + tuple(input_size))
        example = example.astype(np.float32)
    example = example if isinstance(example, Tensor) else tensor(np.asarray(example))
    if example.data.dtype != np.float32:
        raise ExportError(f"ONNX export: expected a float32 input, got {example.data.dtype}")
    graph, source, outputs = trace(model, example, opset, input_name)
    names = [output_name] if len(outputs) == 1 else \
        [f"{output_name}{k}" for k in range(len(outputs))]
    for symbol, out_name in zip(outputs, names):
        graph.nodes.append(helper.make_node("Identity", [symbol.name], [out_name],
                                            name=graph.fresh(f"{out_name}/Identity")))

    def info(name, shape):
        dims = ["batch" if dynamic_batch and k == 0 else int(d) for k, d in enumerate(shape)]
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)

    onnx_graph = helper.make_graph(
        graph.nodes, getattr(model, "name", type(model).__name__),
        [info(input_name, source.shape)],
        [info(n, s.shape) for n, s in zip(names, outputs)], graph.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="layerwise")
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases since 1.16
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path, example=None, input_size=None, opset=DEFAULT_OPSET, check=False,
                **kwargs):
    """Write ``model`` as an ONNX file (atomically); with ``check`` also run it in
    onnxruntime and compare with layerwise (raises if they differ). Returns the path."""
    proto = to_onnx(model, example, input_size, opset, **kwargs)
    path = atomic_write_bytes(path, proto.SerializeToString())
    if check:
        check_onnx(model, path, example, input_size)
    return path


def run_onnx(path_or_proto, inputs):
    """Outputs of an ONNX model (file or ModelProto) on ``inputs`` (an array), by onnxruntime."""
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("running ONNX models needs onnxruntime: pip install onnxruntime") \
            from None
    if hasattr(path_or_proto, "SerializeToString"):
        source = path_or_proto.SerializeToString()
    else:
        source = str(path_or_proto)
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.asarray(inputs, np.float32)})


def check_onnx(model, path_or_proto, example=None, input_size=None, batch=2, rtol=1e-3,
               atol=1e-4, seed=1):
    """Max |difference| between onnxruntime and layerwise (eval mode) on a random batch;
    raises ``ExportError`` beyond ``atol + rtol·max|output|``."""
    if example is None:
        example = np.random.default_rng(seed).standard_normal((batch,) + tuple(input_size))
    x = np.asarray(example.data if isinstance(example, Tensor) else example, np.float32)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(tensor(x))
    finally:
        model.train(was_training)
    expected = [o.data for o in (out if isinstance(out, (tuple, list)) else [out])]
    got = run_onnx(path_or_proto, x)
    worst = 0.0
    for e, o in zip(expected, got):
        diff = float(np.abs(e - o).max())
        worst = max(worst, diff)
        if diff > atol + rtol * float(np.abs(e).max()):
            raise ExportError(f"ONNX check: onnxruntime differs from layerwise by {diff:.3g} "
                              f"(outputs up to {float(np.abs(e).max()):.3g})")
    return worst
