"""Transfer learning: reuse a network trained on one task for another.

The building blocks:

- ``freeze(model, prefixes)`` / ``unfreeze(...)``: stop / restart learning for the
  parameters of some submodules (``requires_grad``); a frozen batch norm also keeps its
  running statistics fixed (it runs in eval mode even while the model trains);
- ``replace_head(model, num_classes)``: a new, randomly initialized last FC layer;
- ``parameter_groups(model, {"features": 1e-4, "classifier": 1e-3})``: optimizer
  parameter groups, each with its own learning rate.

and the notes' three strategies, in ``prepare_transfer(model, num_classes, strategy)``
(see ``docs/transfer_learning.md``):

1. ``"train_all"``: new head, every layer trains; the pretrained layers with a smaller
   learning rate (``backbone_lr``, default lr / 10) than the new head;
2. ``"train_some"``: the first layers stay frozen (generic features: edges, textures),
   the last ``trainable`` layers and the head train;
3. ``"freeze_features"``: the convolutional part is frozen (a fixed feature extractor),
   only the classifier trains (all of AlexNet's/VGG's ``classifier``, ResNet's ``fc``).

Typical use, with the few labelled images of the new task::

    model = get_model("resnet20", num_classes=5, in_channels=1)    # as it was pretrained
    model.load_state_dict(load_state_dict("pretrained.safetensors"))
    groups = prepare_transfer(model, 3, "freeze_features", lr=1e-3)  # a head for 3 classes
    optimizer = optim.Adam(groups)
"""
from .. import nn

__all__ = ["freeze", "unfreeze", "trainable_parameters", "head_name", "classifier_names",
           "replace_head", "parameter_groups", "prepare_transfer", "set_batchnorm_eval",
           "STRATEGIES"]

STRATEGIES = ("train_all", "train_some", "freeze_features")
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _as_list(prefixes):
    if prefixes is None:
        return [""]
    return [prefixes] if isinstance(prefixes, str) else list(prefixes)


def _matches(name, prefix):
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


def _check_prefixes(model, prefixes):
    names = {name for name, _ in model.named_modules()} | \
        {name for name, _ in model.named_parameters()}
    unknown = [p for p in prefixes if p and p not in names]
    if unknown:
        top = ", ".join(name for name, _ in model.named_children())
        raise KeyError(f"{getattr(model, 'name', type(model).__name__)}: no submodule or "
                       f"parameter named {', '.join(map(repr, unknown))}; its top-level "
                       f"modules are: {top}")


def _set_requires_grad(model, prefixes, flag, batchnorm_stats):
    prefixes = _as_list(prefixes)
    _check_prefixes(model, prefixes)
    changed = []
    for name, p in model.named_parameters():
        if any(_matches(name, prefix) for prefix in prefixes):
            p.requires_grad_(flag)
            changed.append(name)
    for name, m in model.named_modules():
        if isinstance(m, _BATCHNORM) and any(_matches(name, p) for p in prefixes):
            set_batchnorm_eval(m, not flag and batchnorm_stats)
    return changed


def freeze(model, prefixes=None, batchnorm_stats=True):
    """Stop learning in the submodules (or parameters) named by ``prefixes`` (a dotted
    name or a list; None: the whole model). Returns the frozen parameter names.

    With ``batchnorm_stats`` (default), the frozen batch norms also keep their running
    statistics: they normalize with them even in training mode (as Keras does).
    """
    return _set_requires_grad(model, prefixes, False, batchnorm_stats)


def unfreeze(model, prefixes=None):
    """Learn again in the submodules named by ``prefixes`` (None: the whole model)."""
    return _set_requires_grad(model, prefixes, True, False)


def set_batchnorm_eval(module, enabled=True):
    """Make the batch norms in ``module`` run in eval mode (running statistics, no
    update) even while the model trains, or (``enabled=False``) undo it."""
    for m in module.modules():
        if not isinstance(m, _BATCHNORM):
            continue
        handles = m.__dict__.pop("_eval_hooks", None)
        if handles:
            for handle in handles:
                handle.remove()
        if enabled:
            object.__setattr__(m, "_eval_hooks", (m.register_forward_pre_hook(_enter_eval),
                                                  m.register_forward_hook(_leave_eval)))
    return module


def _enter_eval(module, inputs):
    object.__setattr__(module, "_mode_before_eval", module.training)
    object.__setattr__(module, "training", False)


def _leave_eval(module, inputs, output):
    object.__setattr__(module, "training", module.__dict__.pop("_mode_before_eval", False))


def trainable_parameters(model):
    """The parameters that still learn (``requires_grad``), for the optimizer."""
    return [p for p in model.parameters() if p.requires_grad]


def head_name(model):
    """The dotted name of the output layer: the last ``Linear`` registered outside the
    auxiliary classifiers (``fc``, ``classifier``, ``classifier.6``, ``10``...)."""
    linears = [name for name, m in model.named_modules()
               if isinstance(m, nn.Linear) and not name.startswith(("aux1.", "aux2."))]
    if not linears:
        raise ValueError(f"{getattr(model, 'name', type(model).__name__)}: no Linear layer "
                         f"found to use as the classifier head")
    return linears[-1]


def classifier_names(model):
    """The top-level modules that make the classifier (what stays trainable when the
    convolutional part is frozen): ``classifier`` (AlexNet, VGG, DenseNet), ``fc``
    (ResNet, GoogLeNet), or in a Sequential the layers after the last ``Flatten``."""
    children = dict(model.named_children())
    if isinstance(children.get("classifier"), nn.Module):
        return ["classifier"]
    if isinstance(children.get("fc"), nn.Module):
        return ["fc"]
    if isinstance(model, nn.Sequential):
        names = list(children)
        flat = [i for i, name in enumerate(names) if isinstance(children[name], nn.Flatten)]
        if flat:
            return names[flat[-1] + 1:]
    return [head_name(model)]


def _replace(model, dotted, num_classes):
    old = model.get_submodule(dotted)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                    dtype=old.weight.data.dtype)
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name)
    parent._modules[child] = new  # in place: keeps the order of a Sequential
    return new


def replace_head(model, num_classes, include_aux=True):
    """Put a new, randomly initialized output layer for ``num_classes`` classes in place of
    the model's last FC layer (and of GoogLeNet's auxiliary ones with ``include_aux``).
    Returns the new head."""
    head = _replace(model, head_name(model), num_classes)
    if include_aux:
        for aux in ("aux1", "aux2"):
            if getattr(model, aux, None) is not None and hasattr(getattr(model, aux), "fc2"):
                _replace(model, f"{aux}.fc2", num_classes)
    return head


def parameter_groups(model, learning_rates, default_lr=None, include_frozen=False):
    """Optimizer parameter groups from ``{prefix: lr}``; the longest matching prefix wins.

    Parameters matching no prefix go to a last group with ``default_lr`` (an error if
    it is None). Frozen parameters are left out unless ``include_frozen``. Each group is
    ``{"params": [...], "lr": lr, "name": prefix}``, as ``optim.SGD/Adam`` take them.
    """
    prefixes = sorted(learning_rates, key=len, reverse=True)
    _check_prefixes(model, prefixes)
    grouped = {prefix: [] for prefix in learning_rates}
    rest = []
    for name, p in model.named_parameters():
        if not (p.requires_grad or include_frozen):
            continue
        prefix = next((q for q in prefixes if _matches(name, q)), None)
        (rest if prefix is None else grouped[prefix]).append((name, p))
    if rest and default_lr is None:
        names = ", ".join(n for n, _ in rest[:5]) + (" ..." if len(rest) > 5 else "")
        raise ValueError(f"parameter_groups: no learning rate for {names}; add their prefix "
                         f"or give default_lr")
    groups = [{"params": [p for _, p in members], "lr": learning_rates[prefix], "name": prefix}
              for prefix, members in grouped.items() if members]
    if rest:
        groups.append({"params": [p for _, p in rest], "lr": default_lr, "name": "default"})
    return groups


def _last_weight_layers(model, count):
    """Dotted names of the modules from the ``count``-th last Conv2d/Linear onwards."""
    leaves = [(name, m) for name, m in model.named_modules()
              if name and not any(True for _ in m.children())
              and any(True for _ in m.parameters(recurse=False))]
    weights = [i for i, (_, m) in enumerate(leaves) if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not 1 <= count <= len(weights):
        raise ValueError(f"train_some: trainable={count} but the model has {len(weights)} "
                         f"conv/linear layers")
    return [name for name, _ in leaves[weights[-count]:]]


def prepare_transfer(model, num_classes, strategy="freeze_features", lr=1e-3,
                     backbone_lr=None, trainable=None, new_head=True):
    """Apply one of the notes' three strategies to ``model`` (pretrained weights loaded)
    and return the optimizer's parameter groups.

    - ``"train_all"``: every layer trains; the pretrained ones at ``backbone_lr``
      (default ``lr / 10``), the head at ``lr``;
    - ``"train_some"``: freeze everything but ``trainable`` (a list of submodule names,
      e.g. ``["layer3", "fc"]``, or an int: the last that many conv/linear layers and
      what follows them); they train at ``lr``;
    - ``"freeze_features"``: freeze everything but the classifier (:func:`classifier_names`),
      which trains at ``lr``.

    ``new_head`` (default True) first replaces the output layer with one for
    ``num_classes`` classes (:func:`replace_head`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"prepare_transfer: strategy must be one of {', '.join(STRATEGIES)}, "
                         f"got {strategy!r}")
    if new_head:
        replace_head(model, num_classes)
    head = head_name(model)
    if strategy == "train_all":
        unfreeze(model)
        return parameter_groups(model, {head: lr},
                                default_lr=lr / 10 if backbone_lr is None else backbone_lr)
    if strategy == "train_some":
        if trainable is None:
            raise ValueError("prepare_transfer('train_some') needs trainable= (submodule names "
                             "such as ['layer4', 'fc'], or a number of last layers)")
        keep = _last_weight_layers(model, trainable) if isinstance(trainable, int) \
            else _as_list(trainable) + [head]
    else:
        keep = classifier_names(model)
    freeze(model)
    unfreeze(model, keep)
    return parameter_groups(model, {"": lr})
