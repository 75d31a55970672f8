"""A transformer text classifier: which fortunes file does a quote come from?

    x = E[tokens] + P[positions]                      (padding id 0 masked everywhere)
    h = LN(TransformerEncoder(x, src_key_padding_mask))   (pre-norm layers, GELU)
    z = mean of h over the non-padding positions          (masked mean pooling)
    logits = W z + b

``forward(ids (N, T)) -> logits (N, num_classes)``; T is cut to ``max_len``.
"""
import numpy as np

from .. import nn
from ..autograd.tensor import Tensor

PAD = 0


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=128, dropout=0.1, max_len=128):
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        nn.init.normal_(self.embedding.weight, 0.0, 0.02)
        self.embedding._fill_padding_idx_with_zero()
        self.position = nn.LearnedPositionalEncoding(max_len, d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, ids):
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"text-classifier: expected token ids (N, T), got shape "
                             f"{tuple(ids.shape)}")
        ids = ids[:, :self.max_len]
        padding = ids == PAD
        padding[:, 0] &= padding.all(axis=1) == False  # noqa: E712 - an empty text keeps one slot
        h = self.encoder(self.position(self.embedding(ids)), src_key_padding_mask=Tensor(padding))
        keep = (~padding).astype(h.dtype)[:, :, None]
        pooled = (h * Tensor(keep)).sum(dim=1) / Tensor(keep.sum(axis=1))
        return self.classifier(pooled)

    def example_input(self, batch_size=1, steps=16):
        return Tensor(np.ones((batch_size, steps), np.int64))


def text_classifier(vocab_size=1000, num_classes=4, d_model=64, nhead=4, num_layers=2,
                    dim_feedforward=128, dropout=0.1, max_len=128, in_channels=None,
                    image_size=None):
    return TransformerClassifier(vocab_size, num_classes, d_model, nhead, num_layers,
                                 dim_feedforward, dropout, max_len)
