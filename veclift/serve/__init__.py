"""HTTP services over the public API: `veclift serve` (``veclift.serve.app``: FastAPI, micro-batched
predictions, bounded requests and queues; ``veclift.serve.server``: on uvicorn).

The public names load their module on first use, so importing this package needs neither FastAPI
nor torch."""

from __future__ import annotations

from veclift.lazy import lazy_attributes

_HOMES = {
    "create_app": "veclift.serve.app",
    "PredictRequest": "veclift.serve.app",
    "ServedModel": "veclift.serve.app",
    "MicroBatcher": "veclift.serve.batching",
    "Limits": "veclift.serve.limits",
    "run_server": "veclift.serve.server",
}

__all__ = list(_HOMES)


__getattr__ = lazy_attributes(__name__, _HOMES)
