"""Receptive fields against the hand computation r_out = r_in + (k - 1)·j_in, j_out = j_in·s."""
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.models import get_model
from layerwise.viz.receptive_field import format_receptive_fields, receptive_fields


def walk(model, size=(1, 32, 32)):
    rows = receptive_fields(model, size)
    return [(r.size[0], r.jump[0], r.start[0], r.output_size) for r in rows]


def test_stack_of_3x3_convs_and_pools():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2))
    # by hand: 1 -> 3 -> 5 -> (pool) 6, jump 2 -> 10 -> 14 -> (pool) 16, jump 4
    assert walk(model) == [(1, 1, 0, (32, 32)), (3, 1, 0, (32, 32)), (5, 1, 0, (32, 32)),
                           (6, 2, 0.5, (16, 16)), (10, 2, 0.5, (16, 16)), (14, 2, 0.5, (16, 16)),
                           (16, 4, 1.5, (8, 8))]


def test_without_padding_the_first_field_moves_inwards():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))
    assert walk(model, (1, 9, 9)) == [(1, 1, 0, (9, 9)), (3, 1, 1, (7, 7)), (5, 1, 2, (5, 5)),
                                      (7, 1, 3, (3, 3))]


def test_strided_and_dilated_convs():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1),
                          nn.Conv2d(1, 1, 3, dilation=2, padding=2))
    # stride 2: 3, jump 2; dilation 2 makes the 3x3 kernel span 5: 3 + (5 - 1)·2 = 11
    assert [r[:2] for r in walk(model, (1, 16, 16))] == [(1, 1), (3, 2), (11, 2)]


def test_seed_cnn_and_the_whole_input_after_flatten():
    rows = receptive_fields(get_model("seed003-cnn"), (1, 28, 28))
    assert [r.size[0] for r in rows[1:5]] == [5, 6, 14, 16]
    assert rows[-1].kind == "Flatten" and rows[-1].whole_input
    table = format_receptive_fields(rows)
    assert "16x16 px" in table and "whole input" in table and "r_out = r_in" in table


class Subsample(nn.Module):
    """A strided slice: changes the size without being a conv or pooling layer."""

    def forward(self, x):
        return x[:, :, ::2, ::2]


def test_a_layer_that_cannot_be_followed_is_named():
    with pytest.raises(ValueError, match="depends on layer '1' \\(Subsample\\), which changes"):
        receptive_fields(nn.Sequential(nn.Conv2d(1, 1, 3), Subsample(), nn.Conv2d(1, 1, 3)),
                         (1, 9, 9))


class SubsampledResidual(nn.Module):
    """Like a CIFAR ResNet's downsampling block: a strided conv path plus a sliced shortcut."""

    def __init__(self):
        super().__init__()
        self.conv, self.shortcut = nn.Conv2d(1, 1, 3, stride=2, padding=1), Subsample()

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


def test_a_path_that_cannot_be_followed_is_ignored_where_paths_meet():
    rows = receptive_fields(nn.Sequential(SubsampledResidual(), nn.Conv2d(1, 1, 3, padding=1)),
                            (1, 8, 8))
    assert [r.size[0] for r in rows] == [1, 3, 7]
    assert rows[-1].ignored_paths == ("'0.shortcut' (Subsample)",)
    assert "ignores the path through '0.shortcut' (Subsample)" in format_receptive_fields(rows)


class Residual(nn.Module):
    """y = conv3(conv3(x)) + conv1x1(x): the paths see 5x5 and 1x1."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
        self.shortcut = nn.Conv2d(1, 2, 1)

    def forward(self, x):
        return self.b(self.a(x)) + self.shortcut(x)


class Parallel(nn.Module):
    """Inception-style: 1x1 and 5x5 branches side by side, concatenated."""

    def __init__(self):
        super().__init__()
        self.one, self.five = nn.Conv2d(1, 2, 1), nn.Conv2d(1, 2, 5, padding=2)

    def forward(self, x):
        return lw.cat([self.one(x), self.five(x)], dim=1)


@pytest.mark.parametrize("block, before_last", [(Residual, 5), (Parallel, 5)])
def test_paths_that_meet_keep_the_largest_field(block, before_last):
    model = nn.Sequential(block(), nn.ReLU(), nn.Conv2d(2 if block is Residual else 4, 1, 3,
                                                        padding=1))
    rows = receptive_fields(model, (1, 12, 12))
    # the shortcut / 1x1 branch is walked from the input, not from the layer listed before it
    assert [r.size[0] for r in rows if r.kind == "Conv2d"][-2] in (1, before_last)
    last = rows[-1]
    assert last.size == (before_last + 2, before_last + 2) and last.merged_paths == 2
    assert "2 paths meet" in format_receptive_fields(rows)
