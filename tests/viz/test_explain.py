"""The step printer reproduces the course's worked examples, digit for digit."""
import numpy as np
import pytest
from PIL import Image

from layerwise.cli import main
from layerwise.viz import explain as explain_module
from layerwise.viz.explain import (EXAMPLES, explain_conv, explain_pool, format_explanation,
                                   format_step, output_size_formula, parse_matrix)
from layerwise.viz.explain_render import save_explanation_gif, save_explanation_png
from tests.backend.test_conv import COURSE_INPUT, CROSS_FILTER, CROSS_OUTPUT

POOL_INPUT = [[1, 2, 3, 4], [5, 6, 7, 8], [0, 9, 1, 2], [3, 4, 5, 6]]


def course_conv(**kwargs):
    return explain_conv(COURSE_INPUT, CROSS_FILTER, **kwargs)


def test_builtin_example_is_the_course_input():
    x, kernel, note = EXAMPLES["conv"]["course"]
    np.testing.assert_array_equal(x, COURSE_INPUT)
    np.testing.assert_array_equal(kernel, CROSS_FILTER)
    assert "reconstructed" in note


def test_cross_filter_sums_in_order_and_final_output():
    e = course_conv()
    assert [s.value for s in e.steps] == [3, 2, 4, 2, 5, 0, 4, 1, 4]
    assert [(s.row, s.col) for s in e.steps[:4]] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    np.testing.assert_array_equal(e.output, CROSS_OUTPUT)
    np.testing.assert_array_equal(e.steps[-1].output, CROSS_OUTPUT)
    # the output fills in row by row: after step 2, two cells are known
    assert np.isnan(e.steps[1].output).sum() == 7
    first = e.steps[0]
    np.testing.assert_array_equal(first.window, [[0, 1, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(first.products, [[0, 0, 0], [0, 1, 0], [1, 0, 1]])


def test_text_shows_window_products_sum_and_formula():
    e = course_conv(note=EXAMPLES["conv"]["course"][2])
    text = format_explanation(e)
    assert "(W - F + 2P)/S + 1 = (5 - 3 + 0)/1 + 1 = 3" in text
    assert "reconstructed" in text
    step = format_step(e, e.steps[0])
    assert "[0][1][0] 0  1" in step          # the window marked in the input
    assert "0·1 + 1·0 + 0·1 + 1·0 + 1·1 + 0·0 + 1·1 + 1·0 + 1·1" in step
    assert "= 0 + 0 + 0 + 0 + 1 + 0 + 1 + 0 + 1 = 3" in step
    assert "[3] .  ." in step                # the output so far, this step's cell marked
    assert text.rstrip().endswith("   3  2  4\n   2  5  0\n   4  1  4")
    assert text.count("Step ") == 9


def test_stride_two():
    e = course_conv(stride=2)
    np.testing.assert_array_equal(e.output, [[3, 4], [4, 4]])
    assert [(s.top, s.left) for s in e.steps] == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert "(5 - 3 + 0)/2 + 1 = 2" in format_explanation(e)


def test_zero_padding_one():
    e = course_conv(padding=1)
    assert e.padded.shape == (7, 7) and e.padded[0].sum() == 0 and e.padded[:, -1].sum() == 0
    np.testing.assert_array_equal(e.padded[1:-1, 1:-1], COURSE_INPUT)
    np.testing.assert_array_equal(e.output, [[1, 2, 2, 0, 2], [3, 3, 2, 4, 0], [3, 2, 5, 0, 3],
                                             [1, 4, 1, 4, 0], [1, 0, 3, 0, 1]])
    np.testing.assert_array_equal(e.output[1:-1, 1:-1], CROSS_OUTPUT)
    text = format_explanation(e)
    assert "(5 - 3 + 2)/1 + 1 = 5" in text and "padded input" in text


def test_padding_and_stride_with_bias():
    e = explain_conv([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -1]], stride=2, padding=1,
                     bias=0.5)
    np.testing.assert_array_equal(e.output, [[-0.5, -2.5], [-6.5, -3.5]])
    assert "0·1 + 0·0 + 0·0 + 1·(-1) + bias 0.5" in format_step(e, e.steps[0])


@pytest.mark.parametrize("mode, expected, first", [
    ("max", [[6, 8], [9, 6]], "max(1, 2, 5, 6) = 6"),
    ("avg", [[3.5, 5.5], [4, 3.5]], "(1 + 2 + 5 + 6) / 4 = 3.5"),
    ("sum", [[14, 22], [16, 14]], "1 + 2 + 5 + 6 = 14")])
def test_course_pooling_two_by_two_stride_two(mode, expected, first):
    e = explain_pool(POOL_INPUT, 2, 2, mode=mode)
    np.testing.assert_array_equal(e.output, expected)
    assert [s.value for s in e.steps] == list(np.ravel(expected))
    assert first in format_step(e, e.steps[0])
    assert "(4 - 2 + 0)/2 + 1 = 2" in format_explanation(e)


def test_max_pooling_with_padding_uses_minus_infinity():
    e = explain_pool(POOL_INPUT, 3, 2, padding=1)
    assert e.padded[0, 0] == -np.inf
    np.testing.assert_array_equal(e.output, [[6, 8], [9, 9]])


@pytest.mark.parametrize("args, text", [
    ((5, 3, 1, 0), "(W - F + 2P)/S + 1 = (5 - 3 + 0)/1 + 1 = 3"),
    ((32, 5, 1, 0), "(32 - 5 + 0)/1 + 1 = 28"),
    ((227, 11, 4, 0), "(227 - 11 + 0)/4 + 1 = 55"),
    ((7, 3, 2, 1), "(7 - 3 + 2)/2 + 1 = 4"),
    ((6, 3, 2, 0), "(6 - 3 + 0)/2 + 1 = 3/2 + 1 = 2.5, rounded down: 2"),
    ((4, 2, 1, (0, 1)), "(W - F + P_before + P_after)/S + 1 = (4 - 2 + 0 + 1)/1 + 1 = 4")])
def test_output_size_formula(args, text):
    assert text in output_size_formula(*args)


def test_step_sums_are_checked_against_the_library(monkeypatch):
    real = explain_module.F.conv2d
    monkeypatch.setattr(explain_module.F, "conv2d", lambda *a, **k: real(*a, **k) + 1)
    with pytest.raises(RuntimeError, match="F.conv2d gives"):
        course_conv()


def test_matrices_from_text():
    np.testing.assert_array_equal(parse_matrix("1 2 3; 4 5 6"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(parse_matrix("1, 2\n3,4\n# comment\n"), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="different lengths"):
        parse_matrix("1 2; 3")
    with pytest.raises(ValueError, match="not a number"):
        parse_matrix("1 x")


@pytest.mark.parametrize("call, message", [
    (lambda: explain_conv([[1, 2], [3, 4]], np.ones((3, 3))), "larger than the padded input 2x2"),
    (lambda: explain_conv([[1, 2], [3, 4]], [[1]], stride=0), "stride must be positive"),
    (lambda: explain_conv([[1, 2], [3, 4]], [[1]], padding=-1), "non-negative"),
    (lambda: explain_pool(POOL_INPUT, 2, padding=2), "at most|between 0 and half"),
    (lambda: explain_pool(POOL_INPUT, 2, mode="median"), "unknown mode")])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_png_contact_sheet_and_gif(tmp_path):
    e = course_conv(stride=2)
    png = save_explanation_png(e, tmp_path / "steps.png")
    with Image.open(png) as sheet:
        assert sheet.width >= 1000 and sheet.height > 300     # 2 x 2 steps plus a header
    gif = save_explanation_gif(e, tmp_path / "steps.gif")
    with Image.open(gif) as animation:
        assert animation.n_frames == len(e.steps) + 1          # the steps, then the result


def test_cli_explain_conv_and_pool(tmp_path, capsys):
    assert main(["explain", "conv", "--example", "course"]) == 0
    text = capsys.readouterr().out
    assert "(5 - 3 + 0)/1 + 1 = 3" in text and "reconstructed" in text
    assert text.count("Step ") == 9
    matrix = tmp_path / "m.txt"
    matrix.write_text("1 2 3 4\n5 6 7 8\n0 9 1 2\n3 4 5 6\n")
    assert main(["explain", "pool", "--input-file", str(matrix), "--size", "2", "--stride", "2",
                 "--gif", str(tmp_path / "p.gif"), "--png", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr().out
    assert "max(1, 2, 5, 6) = 6" in text and "   6  8\n   9  6" in text
    assert (tmp_path / "p.gif").is_file() and (tmp_path / "p.png").is_file()
    assert str(tmp_path / "p.gif") in text
    assert main(["explain", "conv", "--input", "1 2 3; 4 5 6; 7 8 9", "--kernel", "1 0; 0 -1",
                 "--stride", "2", "--padding", "1"]) == 0
    assert "(3 - 2 + 2)/2 + 1" in capsys.readouterr().out
    assert main(["explain", "conv", "--input", "1 2; 3 4", "--kernel", "1 1 1; 1 1 1; 1 1 1"]) == 1
    err = capsys.readouterr().err
    assert "layerwise explain: error:" in err and "larger than the padded input" in err
