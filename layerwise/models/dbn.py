"""Deep belief networks (Hinton, Osindero & Teh 2006): a stack of RBMs trained one layer
at a time, then unrolled into an MLP and fine-tuned by backpropagation.

Greedy layer-wise pre-training: RBM 1 learns the pixels by CD-k; its hidden
probabilities p(h¹|v) become the data of RBM 2, and so on up the stack, each RBM
modelling the features of the one below. The DBN's generative model is the top RBM
(an undirected associative memory) over directed sigmoid layers down to the pixels:

    sample: Gibbs chain in the top RBM -> h^(L-1);  then h^(l-1) ~ p(h^(l-1) | h^l) =
    σ(b^l + h^l W^l) down the stack, the pixel layer taking the means.

For classification the stack is unrolled into an MLP: Linear(W¹, c¹) -> sigmoid -> ...
-> Linear(W^L, c^L) -> sigmoid -> Linear(classes) (``nn.Linear``'s weight layout is the
RBM's (hidden, visible)), and the whole network is fine-tuned with labels.
"""
import numpy as np

from .. import nn, optim
from ..autograd.random import get_rng
from .rbm import RBM

__all__ = ["DBN"]


class DBN(nn.Module):
    """Stacked RBMs with sizes ``(visible, hidden_1, ..., hidden_L)``."""

    def __init__(self, sizes=(784, 500, 250), visible="bernoulli"):
        super().__init__()
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2:
            raise ValueError(f"DBN: needs at least two layer sizes (visible, hidden), got {sizes}")
        self.sizes, self.visible = sizes, visible
        self.rbms = nn.ModuleList([RBM(a, b, visible=visible if i == 0 else "bernoulli")
                                   for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))])

    def transform(self, v, layers=None):
        """The hidden probabilities of layer ``layers`` (default: the top) for input v."""
        x = self.rbms[0].check_visible(v)
        for rbm in list(self.rbms)[:layers]:
            x = rbm.hidden_probabilities(x)
        return x

    def forward(self, v):
        from ..autograd.factories import tensor
        return tensor(self.transform(v))

    def pretrain_layer(self, index, data, epochs=1, lr=0.05, k=1, batch_size=64,
                       persistent=False, momentum=0.5, seed=0, on_batch=None, on_epoch=None):
        """Train RBM ``index`` by CD-k on ``data`` (the features from the layer below).

        ``on_batch(layer, batch, reconstruction_error)`` and ``on_epoch(layer, epoch, logs)``
        report progress. Returns the per-epoch logs.
        """
        rbm = self.rbms[index]
        optimizer = optim.SGD(rbm.parameters(), lr=lr, momentum=momentum)
        rng = np.random.default_rng([seed, index])
        rbm.reset_chains()
        history = []
        for epoch in range(epochs):
            order = rng.permutation(len(data))
            for b, start in enumerate(range(0, len(data), batch_size)):
                batch = data[order[start:start + batch_size]]
                if persistent and rbm.chains is not None and len(batch) != len(rbm.chains):
                    continue  # keep the chains' count fixed: skip a short last batch
                negative = rbm.contrastive_divergence(batch, k=k, persistent=persistent, rng=rng)
                optimizer.step()
                if on_batch is not None:
                    on_batch(index, b, rbm.reconstruction_error(batch), negative)
            logs = {"layer": index + 1, "epoch": epoch + 1,
                    "reconstruction_error": rbm.reconstruction_error(data[:2000])}
            if rbm.visible == "bernoulli":
                logs["pseudo_likelihood"] = float(rbm.pseudo_likelihood(data[:2000], rng).mean())
            history.append(logs)
            if on_epoch is not None:
                on_epoch(index, epoch, logs)
        return history

    def pretrain(self, data, epochs=1, **options):
        """Greedy layer-wise pre-training of every RBM, bottom up; returns all epochs' logs."""
        x = self.rbms[0].check_visible(data)
        history = []
        for index, rbm in enumerate(self.rbms):
            history += self.pretrain_layer(index, x, epochs, **options)
            x = rbm.hidden_probabilities(x)
        return history

    def to_mlp(self, num_classes=10, input_shape=None):
        """The unrolled network: [Flatten] + (Linear + Sigmoid) per RBM + Linear(classes),
        its hidden layers initialized with the RBMs' weights and hidden biases."""
        layers = [nn.Flatten()] if input_shape is not None else []
        for rbm in self.rbms:
            linear = nn.Linear(rbm.n_visible, rbm.n_hidden)
            linear.weight.data[...] = rbm.weight.data
            linear.bias.data[...] = rbm.hidden_bias.data
            layers += [linear, nn.Sigmoid()]
        layers.append(nn.Linear(self.sizes[-1], num_classes))
        return nn.Sequential(*layers)

    def sample(self, n, k=1000, generator=None):
        """n visible vectors: k Gibbs steps in the top RBM, then the directed pass down."""
        rng = generator or get_rng()
        top = self.rbms[-1]
        start = (rng.random((n, top.n_visible)) < 0.5).astype(top.weight.data.dtype)
        v = top.gibbs(start, k, rng)
        for rbm in list(self.rbms)[-2::-1]:
            mean, sample = rbm.sample_v(v, rng)
            v = sample if rbm is not self.rbms[0] else mean
        if len(self.rbms) == 1:
            return top.visible_mean(top.sample_h(v, rng)[1])
        return v

    def config(self):
        return {"sizes": list(self.sizes), "visible": self.visible}
