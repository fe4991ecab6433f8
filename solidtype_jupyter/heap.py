"""Keep the server's start-up heap out of the garbage collector's full collections.

A server that imports CadQuery, OCP, VTK and the model SDKs holds about 750,000 Python
objects before it serves anything. Every full (generation 2) collection walks all of them:
about 300 ms on the 2-core machines this project is measured on, during which the event loop
stands still and every live chat stream and SSE reader waits (BENCHMARKS.md, Chat: the p99
delivery delay at 200 sessions). Those objects (modules, classes, functions) live as long
as the process, so after one collection at start-up ``gc.freeze`` moves them to the
permanent generation, where collections no longer look; objects made afterwards are
collected as before. This is the use the ``gc.freeze`` documentation describes.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze every surviving object; returns how many are frozen.

    Call it once the process has imported what it serves with. Objects that become
    garbage later but were frozen are never freed; for start-up objects that is nothing.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
