"""Bad input to recurrent layers fails early with a message naming the layer and the
expected against the actual shape or value."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.nn.utils import rnn


def test_wrong_feature_size_names_layer_and_sizes():
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) must be equal to input_size. "
                                           r"Expected 10, got 7 \(input shape \(5, 2, 7\)\)"):
        nn.LSTM(10, 20)(lw.zeros(5, 2, 7))
    with pytest.raises(RuntimeError, match=r"GRU: input.size\(-1\) must be equal to input_size. "
                                           r"Expected 3, got 4"):
        nn.GRU(3, 2)(rnn.pack_sequence([lw.zeros(2, 4)]))


def test_wrong_number_of_dimensions():
    with pytest.raises(RuntimeError, match=r"RNN: expected a 3-D input \(batch, seq_len, "
                                           r"features\).*got shape \(2, 3, 4, 5\)"):
        nn.RNN(5, 2, batch_first=True)(lw.zeros(2, 3, 4, 5))


def test_initial_state_of_the_wrong_shape():
    layer = nn.LSTM(3, 4, num_layers=2)
    x = lw.zeros(5, 6, 3)
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[0\] size \(2, 6, 4\), got "
                                           r"\(1, 6, 4\)"):
        layer(x, (lw.zeros(1, 6, 4), lw.zeros(2, 6, 4)))
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[1\] size \(2, 6, 4\), got "
                                           r"\(2, 5, 4\)"):
        layer(x, (lw.zeros(2, 6, 4), lw.zeros(2, 5, 4)))
    with pytest.raises(RuntimeError, match=r"GRU: Expected hidden size \(2, 6, 4\), got "
                                           r"\(2, 6, 5\)"):
        nn.GRU(3, 4, bidirectional=True)(x, lw.zeros(2, 6, 5))
    with pytest.raises(RuntimeError, match="GRU: for unbatched 2-D input, hidden should also "
                                           "be 2-D but got 3-D"):
        nn.GRU(3, 4)(lw.zeros(5, 3), lw.zeros(1, 1, 4))
    with pytest.raises(RuntimeError, match="RNN: for batched input, hidden should be 3-D"):
        nn.RNN(3, 4)(x, lw.zeros(6, 4))
    with pytest.raises(TypeError, match=r"LSTM: the initial state must be a tuple \(h_0, c_0\)"):
        layer(x, lw.zeros(2, 6, 4))


def test_empty_sequence_and_empty_batch():
    with pytest.raises(RuntimeError, match=r"LSTM: empty sequence \(length 0\)"):
        nn.LSTM(3, 4)(lw.zeros(0, 2, 3))
    with pytest.raises(RuntimeError, match=r"GRU: empty sequence \(length 0\)"):
        nn.GRU(3, 4, batch_first=True)(lw.zeros(2, 0, 3))
    with pytest.raises(RuntimeError, match="RNN: empty batch"):
        nn.RNN(3, 4)(lw.zeros(4, 0, 3))


def test_dtype_mismatch_and_bad_constructor_arguments():
    with pytest.raises(RuntimeError, match="LSTM: input dtype float64 does not match weight "
                                           "dtype float32"):
        nn.LSTM(3, 4)(lw.tensor(np.zeros((2, 1, 3))))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="RNN: unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="GRU: hidden_size must be a positive integer"):
        nn.GRU(3, 0)


def test_packed_data_that_does_not_add_up():
    bad = rnn.PackedSequence(lw.zeros(5, 3), lw.tensor([2, 2]))
    with pytest.raises(RuntimeError, match="LSTM: the packed data has 5 rows but its "
                                           "batch_sizes add up to 4"):
        nn.LSTM(3, 4)(bad)
    with pytest.raises(ValueError, match="LSTM: batch_sizes must be positive and non-increasing"):
        nn.LSTM(3, 4)(rnn.PackedSequence(lw.zeros(5, 3), lw.tensor([2, 3])))
