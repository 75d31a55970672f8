"""Several optimizers that are saved and restored as one (a GAN's generator and critic)."""
from .optimizer import Optimizer

__all__ = ["OptimizerGroup"]


class OptimizerGroup:
    """Named optimizers behaving as one for checkpoints: ``state_dict`` holds them all.

    ``OptimizerGroup(generator=opt_g, discriminator=opt_d)``; ``group["generator"]``
    gives one back. ``param_groups`` lists every optimizer's groups in order (the
    first is the one reported as "the" learning rate).
    """

    def __init__(self, **optimizers):
        if not optimizers or not all(isinstance(o, Optimizer) for o in optimizers.values()):
            raise TypeError("OptimizerGroup takes named optimizers, e.g. "
                            "OptimizerGroup(generator=opt_g, discriminator=opt_d)")
        self.optimizers = dict(optimizers)

    def __getitem__(self, name):
        return self.optimizers[name]

    @property
    def param_groups(self):
        return [g for o in self.optimizers.values() for g in o.param_groups]

    def zero_grad(self, set_to_none=True):
        for o in self.optimizers.values():
            o.zero_grad(set_to_none)

    def step(self):
        for o in self.optimizers.values():
            o.step()

    def state_dict(self):
        return {name: o.state_dict() for name, o in self.optimizers.items()}

    def load_state_dict(self, state_dict):
        missing = set(self.optimizers) - set(state_dict)
        if missing:
            raise ValueError(f"OptimizerGroup: the saved state has no optimizer named "
                             f"{sorted(missing)} (it has {sorted(state_dict)})")
        for name, o in self.optimizers.items():
            o.load_state_dict(state_dict[name])
