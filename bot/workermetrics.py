"""Metrics shared by the worker processes of ``sapa run --workers N``.

Each worker counts in its own memory; Prometheus scrapes ``GET /metrics`` through the
shared port and reaches one worker at a time, so without sharing every scrape showed
another worker's figures and the counters jumped up and down. prometheus_client's
multiprocess mode keeps each worker's values in a file of a shared folder and
``/metrics`` adds them up (:func:`bot.metrics.render`).

That mode is chosen when prometheus_client is first imported, from the
``PROMETHEUS_MULTIPROC_DIR`` environment variable: :func:`share_between_workers` must
run before anything imports it (``sapa run`` calls it first thing).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_between_workers() -> None:
    """Point prometheus_client at a fresh folder that this process removes when it exits.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is kept (they manage that folder).
    """
    if os.environ.get(ENV):
        return
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the workers' metrics folder was set")
    folder = tempfile.mkdtemp(prefix="sapa-metrics-")
    os.environ[ENV] = folder
    parent = os.getpid()

    def remove() -> None:
        if os.getpid() == parent:  # not in a forked worker that happens to run atexit hooks
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
