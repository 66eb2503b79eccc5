"""A serving process's policy for Python's cyclic garbage collector.

A server holds millions of references in its live histories, models and catalogues. A full collection walks them
all with the interpreter lock held (about 200 ms for MovieLens-1M), and Python starts one whenever enough new objects
have survived, which a burst of events brings about: every request of the process waited for it. A serving process
therefore freezes what it has loaded (`gc.freeze`): the collector never scans those objects again, and reference
counting still frees them when they are replaced. Only a reference cycle among them would outlive its use, so the
policy is the server's alone, not that of a library user or a test process.
"""

from __future__ import annotations

import gc

_serving = False


def freeze_loaded_data() -> None:
    """Adopt the policy in this process (a server calls it once, before it loads anything)."""
    global _serving
    _serving = True


def loaded() -> None:
    """A large, long-lived structure has just been built: in a serving process, keep the collector off it (and off
    everything else alive now)."""
    if _serving:
        gc.freeze()
