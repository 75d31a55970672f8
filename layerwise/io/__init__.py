"""Saving and loading weights and checkpoints (safetensors or .npz; no pickle, no code
execution), and ONNX export (``export_onnx``, needs the ``onnx`` package)."""
from .onnx_export import check_onnx, export_onnx, run_onnx, to_onnx  # noqa: F401
from .onnx_graph import ExportError  # noqa: F401
from .safetensors_io import (CheckpointError, atomic_write_bytes, load_file,  # noqa: F401
                             save_file)
from .weights import (load_npz, load_state_dict, save_npz, save_state_dict,  # noqa: F401
                      weights_format)
