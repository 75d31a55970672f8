"""Subcommands of the ``layerwise`` CLI: one module per group, each with ``register(sub)``."""
