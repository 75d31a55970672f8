"""The step-by-step convolution / pooling of ``explain.py`` as pictures: a PNG contact
sheet (one panel per step) or an animated GIF (one frame per step).

Each frame shows the (padded) input with the window outlined, the kernel, the
element-wise products (convolution) or the window (pooling), and the output filling
in, the current cell highlighted; its title gives the step and the arithmetic.
Cells carry their numbers, so no colour scale is needed: colours only mark roles
(window, padding, current output).
"""
import numpy as np
from matplotlib.patches import Rectangle
from PIL import Image

from .explain import describe, format_number, step_arithmetic
from .plotting import plt

__all__ = ["render_step", "save_explanation_png", "save_explanation_gif"]

WINDOW, PADDING, CURRENT, EMPTY = "#ffd8a8", "#e9ecef", "#b2f2bb", "#f8f9fa"
FRAME_DPI = 100


def _cell_text(value):
    return "" if np.isnan(value) else format_number(value).replace("-inf", "−∞")


def _draw_matrix(ax, matrix, title, window=None, padding=None, current=None, fontsize=11):
    """A matrix as coloured cells with their numbers; ``window`` (top, left, h, w) is
    outlined, ``padding`` ((top, bottom), (left, right)) cells are grey."""
    h, w = matrix.shape
    colours = np.ones((h, w, 3))
    paint = lambda mask, hex_colour: colours.__setitem__(  # noqa: E731
        mask, np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]))
    rows, cols = np.indices((h, w))
    paint(np.isnan(matrix), EMPTY)
    if padding is not None:
        (pt, pb), (pl, pr) = padding
        paint((rows < pt) | (rows >= h - pb) | (cols < pl) | (cols >= w - pr), PADDING)
    if window is not None:
        top, left, kh, kw = window
        paint((rows >= top) & (rows < top + kh) & (cols >= left) & (cols < left + kw), WINDOW)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), kw, kh, fill=False, edgecolor="#d9480f",
                               linewidth=2.5, zorder=3))
    if current is not None:
        paint((rows == current[0]) & (cols == current[1]), CURRENT)
    ax.imshow(colours, interpolation="nearest")
    for i in range(h):
        for j in range(w):
            ax.text(j, i, _cell_text(matrix[i, j]), ha="center", va="center", fontsize=fontsize)
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    ax.set_xticks(np.arange(-0.5, w), minor=True)
    ax.set_yticks(np.arange(-0.5, h), minor=True)
    ax.grid(which="minor", color="#adb5bd", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelsize=8)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(title, fontsize=11)


def _panels(explanation, step):
    """(matrix, title, options) for each panel of a step's frame (``step`` None: overview)."""
    e = explanation
    kh, kw = e.kernel_size
    padded = any(p for pair in e.padding for p in pair)
    window = None if step is None else (step.top, step.left, kh, kw)
    panels = [(e.padded, f"{'Padded input' if padded else 'Input'} "
                         f"{e.padded.shape[0]}x{e.padded.shape[1]}",
               dict(window=window, padding=e.padding if padded else None))]
    if e.kind == "conv":
        panels.append((e.kernel, f"Kernel {kh}x{kw}", {}))
        if step is not None:
            panels.append((step.products, "Window × kernel", {}))
    elif step is not None:
        reduction = {"avg": "mean", "max": "max", "sum": "sum"}[e.kind]
        panels.append((step.window, f"Window ({reduction} = {format_number(step.value)})", {}))
    output = e.output if step is None else step.output
    current = None if step is None else (step.row, step.col)
    panels.append((output, f"Output {output.shape[0]}x{output.shape[1]}",
                   dict(current=current)))
    return panels


def _figure_for(explanation, step, title, caption):
    panels = _panels(explanation, step)
    widths = [max(m.shape[1], 2) for m, _, _ in panels]
    height = max(m.shape[0] for m, _, _ in panels)
    cell = 0.55
    fig, axes = plt.subplots(1, len(panels), figsize=(cell * sum(widths) + 1.2 * len(panels),
                                                      cell * height + 1.9),
                             gridspec_kw=dict(width_ratios=widths), dpi=FRAME_DPI)
    fontsize = 11 if height <= 7 else 8
    for ax, (matrix, panel_title, options) in zip(np.atleast_1d(axes), panels):
        _draw_matrix(ax, matrix, panel_title, fontsize=fontsize, **options)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    if caption:
        fig.text(0.5, 0.01, caption, ha="center", va="bottom", fontsize=9, wrap=True)
    return fig


def _to_image(fig):
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return image


def _short(text, limit=120):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def render_step(explanation, step):
    """One step as a PIL image: the panels, a title with the step and its value, and the
    arithmetic as a caption."""
    e = explanation
    title = (f"{e.op_name.capitalize()}, step {step.index + 1}/{len(e.steps)}: "
             f"output[{step.row}, {step.col}] = {format_number(step.value)}")
    return _to_image(_figure_for(e, step, title, _short(step_arithmetic(e, step))))


def render_result(explanation):
    """The last frame: input, kernel and the complete output, with the size formula."""
    e = explanation
    title = f"{e.op_name.capitalize()}: complete output ({e.library_op})"
    return _to_image(_figure_for(e, None, title, _short(describe(e)[-1], 140)))


def _header(lines, width):
    fig = plt.figure(figsize=(width / FRAME_DPI, 0.3 + 0.25 * len(lines)), dpi=FRAME_DPI)
    fig.text(0.01, 0.5, "\n".join(lines), ha="left", va="center", fontsize=10)
    return _to_image(fig)


def save_explanation_png(explanation, path, columns=None, max_steps=64, frame_width=640):
    """All steps (up to ``max_steps``) on one contact sheet, row by row like the kernel,
    under a header with the operation and the output-size formula. Returns ``path``."""
    e = explanation
    steps = e.steps[:max_steps]
    frames = [render_step(e, s) for s in steps]
    scale = frame_width / frames[0].width
    frames = [f.resize((frame_width, round(f.height * scale)), Image.LANCZOS) for f in frames]
    if columns is None:
        columns = min(e.output.shape[1], 4, len(steps))
    rows = -(-len(frames) // columns)
    tile_h = max(f.height for f in frames)
    lines = describe(e)
    if len(steps) < len(e.steps):
        lines.append(f"(the first {len(steps)} of {len(e.steps)} steps)")
    header = _header(lines, frame_width * columns)
    sheet = Image.new("RGB", (frame_width * columns, header.height + rows * tile_h), "white")
    sheet.paste(header, (0, 0))
    for k, frame in enumerate(frames):
        sheet.paste(frame, ((k % columns) * frame_width, header.height + (k // columns) * tile_h))
    sheet.save(path)
    return path


def save_explanation_gif(explanation, path, frame_ms=900, final_ms=2500, max_steps=100):
    """An animated GIF: one frame per step (the first ``max_steps``), then the complete
    output. Returns ``path``."""
    frames = [render_step(explanation, s) for s in explanation.steps[:max_steps]]
    frames.append(render_result(explanation))
    size = (max(f.width for f in frames), max(f.height for f in frames))
    frames = [f if f.size == size else _pad_to(f, size) for f in frames]
    palette = [f.convert("P", palette=Image.ADAPTIVE, colors=64) for f in frames]
    palette[0].save(path, save_all=True, append_images=palette[1:], loop=0,
                    duration=[frame_ms] * (len(frames) - 1) + [final_ms])
    return path


def _pad_to(image, size):
    canvas = Image.new("RGB", size, "white")
    canvas.paste(image, (0, 0))
    return canvas
