"""Which training procedure a model needs: ``layerwise train`` dispatches on it.

Image classifiers (the default) go through ``run.train_run``. Other families —
language models, sequence classifiers, autoencoders, GANs, RBMs — register a
runner for their model names here, so that ``layerwise train --model NAME`` and
``layerwise train --resume CHECKPOINT`` find it:

    @register_task("char-lstm")
    def train_char_lstm(args, out=print): ...

A runner receives the parsed ``layerwise train`` arguments and returns
``(run_dir, results)``. ``task_for(name)`` returns the runner, or ``None`` for the
image-classification default.
"""

_TASKS = {}


def register_task(*model_names):
    """Decorator registering a training runner for these model names."""
    def decorate(runner):
        for name in model_names:
            _TASKS[name] = runner
        return runner
    return decorate


def task_for(model_name):
    _load_families()
    return _TASKS.get(model_name)


def _load_families():
    """Import the modules that register runners (kept lazy to keep imports light)."""
    import importlib
    for module in FAMILY_MODULES:
        importlib.import_module(module)


#: modules defining runners with ``register_task`` (each family adds its module here)
FAMILY_MODULES = [
    "layerwise.train.run_generative",  # autoencoders, vae, gan, dcgan, rbm, dbn
    "layerwise.train.run_sequence",    # char-lstm, rnn-classifier, lstm-forecaster
    "layerwise.train.run_transformer",  # gpt-mini, seq2seq, text-classifier
]
