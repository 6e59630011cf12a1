"""Production settings, with collected static files in a throwaway folder.

The benchmark runs the real `config.settings` (DEBUG off, manifest static
storage); only STATIC_ROOT moves, so `collectstatic` leaves the tree alone.
"""

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
