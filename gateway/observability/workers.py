"""The workers' shared metrics directory: which variable names it, and forgetting a worker.

Both the listener (which sums the directory) and each worker's sampler (which leaves it at
shutdown) use these; neither imports the other. prometheus-client is imported only inside the
functions, for the reason the listener gives.
"""

from __future__ import annotations

import glob
import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def forget_dead_workers(directory: str) -> None:
    """Drop live gauges of workers that exited without saying so (killed, crashed)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = int(path.rsplit("_", 1)[1].removesuffix(".db"))
        if not _alive(pid):
            forget_worker(pid)


def forget_worker(pid: int) -> None:
    """Drop a worker's live gauges from the shared directory (nothing to do within one process)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]  # untyped upstream


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
