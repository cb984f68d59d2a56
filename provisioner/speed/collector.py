"""Pausing Python's cyclic garbage collector around bulk loads of acyclic data.

Parsed YAML nodes, analyses and JSON documents hold no reference cycles (reference counting
frees them), but they are hundreds of thousands of tracked objects: with the collector on,
composing 10,000 campaigns took 5x longer, and parsing an 18 MB state twice as long, almost
all of it in collections that found nothing to free.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off while the block runs; what it allocated is then frozen."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated meanwhile sits in the youngest generation: the first
        # collection after re-enabling would scan it all (a quarter second at 10,000
        # campaigns). What is loaded lives as long as the run, so it is frozen instead
        # (reference counting still frees it once it is dropped).
        gc.freeze()
        if enabled:
            gc.enable()
