"""OptimizerGroup: two optimizers checkpointed and restored as one (a GAN's G and D)."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn, optim
from layerwise.train.checkpoint import load_checkpoint, save_checkpoint


def _setup(seed=0):
    lw.manual_seed(seed)
    g, d = nn.Linear(3, 2), nn.Linear(2, 1)
    group = optim.OptimizerGroup(generator=optim.Adam(g.parameters(), lr=0.01),
                                 discriminator=optim.SGD(d.parameters(), lr=0.1, momentum=0.9))
    return nn.Sequential(g, d), group


def _step(model, group):
    group.zero_grad()
    model(lw.randn(4, 3)).sum().backward()
    group.step()


def test_checkpoint_restores_every_optimizer(tmp_path):
    model, group = _setup()
    for _ in range(3):
        _step(model, group)
    save_checkpoint(tmp_path / "c.safetensors", model, group, epoch=1)
    state = lw.get_rng_state()
    for _ in range(2):
        _step(model, group)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model2, group2 = _setup(seed=5)
    load_checkpoint(tmp_path / "c.safetensors").restore(model2, group2)
    lw.set_rng_state(state)
    for _ in range(2):
        _step(model2, group2)
    for key, value in model2.state_dict().items():
        np.testing.assert_allclose(value.numpy(), expected[key], rtol=1e-6, err_msg=key)
    assert group2["discriminator"].state_dict()["state"]   # the momentum buffers came back


def test_group_requires_named_optimizers_and_matching_state():
    with pytest.raises(TypeError, match="named optimizers"):
        optim.OptimizerGroup()
    _, group = _setup()
    with pytest.raises(ValueError, match="no optimizer named"):
        group.load_state_dict({"generator": group["generator"].state_dict()})
