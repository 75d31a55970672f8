"""Convolution and pooling explained step by step, with the library's own ops.

A convolution layer slides its kernel (filter) K of size F x F over the input X
padded with P zeros on each side, S pixels at a time; at each stop it multiplies
the window by the kernel element by element and sums the products:

    Y[i, j] = b + Σ_{p,q} X_pad[i·S + p, j·S + q] · K[p, q]

(a cross-correlation: the kernel is not flipped, as in every deep learning library).
Pooling summarizes each window instead: max, mean or sum. Either way the output has

    (W - F + 2P) / S + 1      positions per axis (rounded down).

``explain_conv`` / ``explain_pool`` return an :class:`Explanation` holding one
:class:`Step` per output position (the window, its element-wise products, the
value), in the order the kernel visits them (row by row). The output itself is
computed by ``F.conv2d`` / ``F.max_pool2d`` / ``F.avg_pool2d`` / ``F.sum_pool2d``;
each step's arithmetic is checked against it, so the explanation cannot drift from
the library. ``format_explanation`` prints it the way the notes work it by hand.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..backend.conv import conv_output_size, pad2d
from ..nn import functional as F
from ..nn.functional.conv import conv_padding

__all__ = ["Step", "Explanation", "parse_matrix", "read_matrix_file", "explain_conv",
           "explain_pool", "output_size_formula", "format_number", "step_arithmetic",
           "format_step", "describe", "format_explanation", "EXAMPLES", "COURSE_NOTE"]

COURSE_NOTE = ("the course's worked example, reconstructed: the course shows the cross filter "
               "and its output 3 2 4 / 2 5 0 / 4 1 4 but not its input; this binary input "
               "reproduces that output")

# name -> (input, kernel (conv) or kernel size (pool), note)
EXAMPLES = {
    "conv": {"course": ([[0, 1, 0, 0, 1], [1, 1, 0, 1, 0], [1, 1, 1, 0, 1],
                         [0, 1, 0, 1, 0], [0, 0, 1, 0, 0]],
                        [[1, 0, 1], [0, 1, 0], [1, 0, 1]], COURSE_NOTE)},
    "pool": {"course": ([[1, 2, 3, 4], [5, 6, 7, 8], [0, 9, 1, 2], [3, 4, 5, 6]], 2,
                        "the course's 2x2 pooling example")},
}

POOL_OPS = {"max": "max pooling", "avg": "average pooling", "sum": "sum pooling"}


@dataclass
class Step:
    """One stop of the window: output[row, col] from the window at (top, left) of X_pad."""
    index: int
    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    products: np.ndarray = None      # convolution only: window * kernel
    value: float = 0.0               # the library's output at (row, col)
    output: np.ndarray = None        # the output after this step (NaN: not computed yet)


@dataclass
class Explanation:
    """Everything needed to show a convolution or pooling by hand."""
    kind: str                        # 'conv', 'max', 'avg' or 'sum'
    input: np.ndarray
    padded: np.ndarray
    kernel_size: tuple
    stride: tuple
    padding: tuple                   # ((top, bottom), (left, right))
    output: np.ndarray
    kernel: np.ndarray = None        # convolution only
    bias: float = 0.0
    note: str = ""
    steps: list = field(default_factory=list)

    @property
    def op_name(self):
        return "convolution" if self.kind == "conv" else POOL_OPS[self.kind]

    @property
    def library_op(self):
        return {"conv": "F.conv2d", "max": "F.max_pool2d", "avg": "F.avg_pool2d",
                "sum": "F.sum_pool2d"}[self.kind]


# ------------------------------------------------------------------ matrices
def parse_matrix(text, name="matrix"):
    """'1 2 3; 4 5 6' (rows split by ';' or new lines, entries by spaces or commas)."""
    rows = [r for r in (line.split("#")[0].strip() for line in re.split(r"[;\n]", text)) if r]
    if not rows:
        raise ValueError(f"{name}: no numbers given (write rows like '1 2 3; 4 5 6')")
    values = []
    for number, row in enumerate(rows, 1):
        try:
            values.append([float(v) for v in re.split(r"[\s,]+", row.strip(" ,[]")) if v])
        except ValueError:
            raise ValueError(f"{name}: row {number} ({row!r}) holds something that is not a "
                             f"number") from None
    widths = {len(r) for r in values}
    if len(widths) != 1:
        raise ValueError(f"{name}: rows have different lengths {[len(r) for r in values]}; "
                         f"every row needs the same number of entries")
    return np.array(values, dtype=np.float64)


def read_matrix_file(path, name=None):
    """A matrix from a text file: one row per line, entries split by spaces or commas."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name or 'matrix file'}: no such file {str(path)!r}")
    return parse_matrix(path.read_text(), name or str(path))


def _as_matrix(values, name):
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D matrix, got shape {array.shape}")
    return array


def _pair(value, name):
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise ValueError(f"{name} must be an integer or a pair of integers, got {value!r}")
    return tuple(int(v) for v in pair)


# ------------------------------------------------------------------ steps
def _check_fits(op, kernel_size, padded_shape, input_shape, padding):
    if not isinstance(padding, str) and len(set(padding)) == 1:
        padding = padding[0]
    if any(k > s for k, s in zip(kernel_size, padded_shape)):
        raise ValueError(f"{op}: the {kernel_size[0]}x{kernel_size[1]} kernel is larger than "
                         f"the padded input {padded_shape[0]}x{padded_shape[1]} (input "
                         f"{input_shape[0]}x{input_shape[1]}, padding {padding}): use a "
                         f"smaller kernel or more padding")


def _walk(explanation, make_step):
    """One Step per output position, row by row, each checked against the library."""
    out_h, out_w = explanation.output.shape
    so_far = np.full((out_h, out_w), np.nan)
    (kh, kw), (sh, sw) = explanation.kernel_size, explanation.stride
    for row in range(out_h):
        for col in range(out_w):
            top, left = row * sh, col * sw
            window = explanation.padded[top:top + kh, left:left + kw]
            step = make_step(window)
            value = explanation.output[row, col]
            if not np.isclose(step.value, value, rtol=1e-9, atol=1e-9):
                raise RuntimeError(f"explain: step ({row}, {col}) gives {step.value} but "
                                   f"{explanation.library_op} gives {value}")
            so_far[row, col] = value
            step.index, step.row, step.col, step.top, step.left = \
                len(explanation.steps), row, col, top, left
            step.value, step.output = value, so_far.copy()
            explanation.steps.append(step)
    return explanation


def explain_conv(input, kernel, stride=1, padding=0, bias=0.0, note=""):
    """Every step of ``F.conv2d`` on one 2-D input and one 2-D kernel.

    padding: int, (h, w), 'valid' or 'same'. Raises ValueError when the kernel does
    not fit the padded input, or for a non-positive stride or negative padding.
    """
    x, k = _as_matrix(input, "input"), _as_matrix(kernel, "kernel")
    stride = _pair(stride, "stride")
    if min(stride) <= 0:
        raise ValueError(f"explain conv: stride must be positive, got {stride}")
    if not isinstance(padding, str):
        padding = _pair(padding, "padding")
        if min(padding) < 0:
            raise ValueError(f"explain conv: padding must be non-negative, got {padding}")
    elif padding == "same" and stride != (1, 1):
        raise ValueError("explain conv: padding 'same' needs stride 1")
    pads = conv_padding(padding, k.shape, stride, (1, 1), op="explain conv")
    padded = pad2d(x[None, None], pads)[0, 0]
    _check_fits("explain conv", k.shape, padded.shape, x.shape, padding)
    with no_grad():
        y = F.conv2d(tensor(x[None, None]), tensor(k[None, None]),
                     tensor(np.array([bias], dtype=np.float64)), stride=stride,
                     padding=padding).numpy()[0, 0]
    explanation = Explanation("conv", x, padded, k.shape, stride, pads, y, kernel=k,
                              bias=float(bias), note=note)

    def step(window):
        products = window * k
        return Step(0, 0, 0, 0, 0, window, products, value=products.sum() + bias)
    return _walk(explanation, step)


def explain_pool(input, kernel_size=2, stride=None, padding=0, mode="max", note=""):
    """Every step of max, average or sum pooling of one 2-D input (stride defaults to
    the kernel size; padding at most half the kernel; average pooling counts the
    zero padding in its divisor, like PyTorch's default)."""
    if mode not in POOL_OPS:
        raise ValueError(f"explain pool: unknown mode {mode!r}; choose max, avg or sum")
    x = _as_matrix(input, "input")
    kernel_size = _pair(kernel_size, "kernel size")
    stride = kernel_size if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if min(kernel_size) <= 0 or min(stride) <= 0:
        raise ValueError(f"explain pool: kernel size and stride must be positive, got "
                         f"{kernel_size} and {stride}")
    if min(padding) < 0 or any(p > k // 2 for p, k in zip(padding, kernel_size)):
        raise ValueError(f"explain pool: padding must be between 0 and half the kernel size "
                         f"({kernel_size[0] // 2}), got {padding}")
    pads = tuple((p, p) for p in padding)
    fill = -np.inf if mode == "max" else 0.0
    padded = np.pad(x, pads, constant_values=fill)
    _check_fits("explain pool", kernel_size, padded.shape, x.shape, padding)
    op = {"max": F.max_pool2d, "avg": F.avg_pool2d, "sum": F.sum_pool2d}[mode]
    with no_grad():
        y = op(tensor(x[None, None]), kernel_size, stride, padding).numpy()[0, 0]
    explanation = Explanation(mode, x, padded, kernel_size, stride, pads, y, note=note)
    reduce = {"max": np.max, "avg": np.mean, "sum": np.sum}[mode]
    return _walk(explanation, lambda window: Step(0, 0, 0, 0, 0, window, value=reduce(window)))


# ------------------------------------------------------------------ text
def format_number(value):
    """3.0 -> '3', 0.5 -> '0.5', 1/3 -> '0.3333', -inf -> '-inf'."""
    value = float(value)
    if not np.isfinite(value):
        return "-inf" if value < 0 else ("inf" if value > 0 else "nan")
    if value.is_integer():
        return str(int(value))
    return f"{value:.4g}"


def output_size_formula(size, kernel, stride, padding, symbol="W"):
    """The course's formula with the numbers in it, e.g.
    '(W - F + 2P)/S + 1 = (5 - 3 + 0)/1 + 1 = 3'; ``padding`` is an int or (before, after)."""
    before, after = (padding, padding) if np.isscalar(padding) else padding
    result = conv_output_size(size, kernel, stride, (before, after))
    if before == after:
        text = f"({symbol} - F + 2P)/S + 1 = ({size} - {kernel} + {2 * before})/{stride} + 1"
    else:
        text = (f"({symbol} - F + P_before + P_after)/S + 1 = "
                f"({size} - {kernel} + {before} + {after})/{stride} + 1")
    span = size - kernel + before + after
    if span % stride:
        lines = "column(s)" if symbol == "W" else "row(s)"
        return (f"{text} = {span}/{stride} + 1 = {format_number(span / stride + 1)}, rounded "
                f"down: {result} (the window never reaches the last {span % stride} padded "
                f"{lines})")
    return f"{text} = {result}"


def _grid(matrix, marked=None, blank=".", current=None):
    """Lines of a matrix; cells in the ``marked`` (top, left, h, w) box or at ``current``
    (row, col) are shown in [brackets]; NaN cells show ``blank``."""
    cells = [[blank if np.isnan(v) else format_number(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    lines = []
    for i, row in enumerate(cells):
        parts = []
        for j, cell in enumerate(row):
            inside = (marked and marked[0] <= i < marked[0] + marked[2]
                      and marked[1] <= j < marked[1] + marked[3]) or current == (i, j)
            parts.append(f"[{cell:>{width}}]" if inside else f" {cell:>{width}} ")
        lines.append("".join(parts).rstrip())
    return lines


def _side_by_side(blocks, gap=5):
    """Blocks (header, lines) printed next to each other."""
    widths = [max(len(h), *(len(line) for line in lines)) for h, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["".join(h.ljust(w + gap) for (h, _), w in zip(blocks, widths)).rstrip()]
    for i in range(height):
        out.append("".join((lines[i] if i < len(lines) else "").ljust(w + gap)
                           for (_, lines), w in zip(blocks, widths)).rstrip())
    return out


def step_arithmetic(explanation, step):
    """The step's sum as a line: '0·1 + 1·0 + ... = 0 + 0 + ... = 3' or 'max(1, 2, 5, 6) = 6'."""
    term = lambda v: f"({format_number(v)})" if v < 0 else format_number(v)  # noqa: E731
    values = [term(v) for v in step.window.ravel()]
    result = format_number(step.value)
    if explanation.kind == "conv":
        pairs = " + ".join(f"{v}·{term(k)}" for v, k in zip(values, explanation.kernel.ravel()))
        products = " + ".join(term(p) for p in step.products.ravel())
        bias = f" + bias {term(explanation.bias)}" if explanation.bias else ""
        return f"{pairs}{bias} = {products}{bias} = {result}"
    if explanation.kind == "max":
        return f"max({', '.join(format_number(v) for v in step.window.ravel())}) = {result}"
    if explanation.kind == "sum":
        return f"{' + '.join(values)} = {result}"
    return f"({' + '.join(values)}) / {step.window.size} = {result}"


def format_step(explanation, step):
    """One step as text: the window marked in the input, the products, the output so far."""
    kh, kw = explanation.kernel_size
    total = len(explanation.steps)
    head = (f"Step {step.index + 1}/{total}: output[{step.row}, {step.col}] <- window at rows "
            f"{step.top}..{step.top + kh - 1}, columns {step.left}..{step.left + kw - 1}")
    padded = any(p for pair in explanation.padding for p in pair)
    blocks = [(("padded input" if padded else "input") + ", window in [ ]",
               _grid(explanation.padded, (step.top, step.left, kh, kw)))]
    if explanation.kind == "conv":
        blocks += [("kernel", _grid(explanation.kernel)),
                   ("window × kernel", _grid(step.products))]
    else:
        blocks.append(("window", _grid(step.window)))
    blocks.append(("output so far", _grid(step.output, current=(step.row, step.col))))
    label = {"conv": "sum of products", "max": "max", "avg": "mean", "sum": "sum"}[
        explanation.kind]
    return "\n".join([head] + ["  " + line for line in _side_by_side(blocks)] +
                     [f"  {label}: {step_arithmetic(explanation, step)}"])


def describe(explanation):
    """The header: operation, sizes, the output-size formula with its numbers."""
    e = explanation
    (h, w), (kh, kw), (sh, sw) = e.input.shape, e.kernel_size, e.stride
    (pt, pb), (pl, pr) = e.padding
    pad_text = f"{pt}" if pt == pb == pl == pr else f"{e.padding}"
    stride_text = f"{sh}" if sh == sw else f"{e.stride}"
    lines = [f"{e.op_name.capitalize()} of a {h}x{w} input with a {kh}x{kw} "
             f"{'kernel' if e.kind == 'conv' else 'window'}, stride {stride_text}, "
             f"padding {pad_text} (computed by {e.library_op})"]
    if e.note:
        lines.append(f"Input: {e.note}")
    if e.kind == "conv":
        lines.append("Each output = Σ window × kernel (element-wise products, summed)" +
                     (f" + bias {format_number(e.bias)}" if e.bias else ""))
    else:
        lines.append({"max": "Each output = the largest value of its window",
                      "avg": "Each output = the mean of its window (padding counts as 0)",
                      "sum": "Each output = the sum of its window"}[e.kind])
    if (h, kh, sh, (pt, pb)) == (w, kw, sw, (pl, pr)):
        lines.append(f"Output size: {output_size_formula(w, kw, sw, (pl, pr))}  ->  "
                     f"{e.output.shape[0]}x{e.output.shape[1]}")
    else:
        lines.append(f"Output height: {output_size_formula(h, kh, sh, (pt, pb), 'H')}")
        lines.append(f"Output width:  {output_size_formula(w, kw, sw, (pl, pr))}")
        lines.append(f"Output: {e.output.shape[0]}x{e.output.shape[1]}")
    return lines


def format_explanation(explanation, max_steps=None):
    """The whole explanation as text: header, every step (or the first ``max_steps``),
    and the final output as the library computes it."""
    e = explanation
    blocks = [_side_by_side([("input", _grid(e.input))] +
                            ([("kernel", _grid(e.kernel))] if e.kind == "conv" else []))]
    lines = describe(e) + [""] + blocks[0] + [""]
    shown = e.steps if max_steps is None else e.steps[:max_steps]
    for step in shown:
        lines += [format_step(e, step), ""]
    if len(shown) < len(e.steps):
        lines += [f"... {len(e.steps) - len(shown)} more steps (all checked)", ""]
    lines.append(f"Output ({e.output.shape[0]}x{e.output.shape[1]}, {e.library_op}; every "
                 f"step above agrees with it):")
    lines += ["  " + line for line in _grid(e.output)]
    return "\n".join(lines)
