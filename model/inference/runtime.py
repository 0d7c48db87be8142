"""Process-level settings for a long-running process that assesses one patient after another.

A full garbage-collection pass walks every container object the process holds. Once the
network, its compiled engine and the parameter draws are loaded that is some hundred thousand
objects that live as long as the process, so the pass that now and then follows the
assessments' allocations costs 30-110 ms of CPU (ten to thirty times a new patient's
work-up) and lands on whichever patient happens to be running (``python
scripts/gc_pauses.py``).

:func:`freeze_loaded` collects once and then moves every object alive at that moment into
the collector's permanent generation (:func:`gc.freeze`): they are no longer walked, so later
full passes only look at what was made since. Reference counting frees objects as before; a
frozen object that later ends up in an unreachable cycle is simply not reclaimed, which is
why it is called once, after the long-lived objects are loaded and before patients are
assessed, not between patients.
"""

from __future__ import annotations

import gc


def freeze_loaded() -> int:
    """Collect garbage once, then exempt every object now alive from later full collections.

    Call it after the engine and the parameter draws a process will use are loaded (for
    example after a first ``assess``). Calling it again freezes what was made since.

    Returns
    -------
    The number of objects in the permanent generation afterwards.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
