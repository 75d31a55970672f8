"""``python -m layerwise ...`` runs the command line (also under ``mpiexec``)."""
import sys

from .cli import main

sys.exit(main())
