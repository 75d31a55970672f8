"""Saving and loading weights and checkpoints (safetensors; no pickle, no code execution)."""
from .safetensors_io import (CheckpointError, atomic_write_bytes, load_file,  # noqa: F401
                             load_state_dict, save_file, save_state_dict)
