"""Primitives: the registry (``registry.py``) and one module per family, which register into it.

Importing this package registers every primitive; ``get(name)``/``prim(op)`` answer what adc
knows about one, ``PRIMS`` iterates them, ``lexicon.py`` derives the front end's names from them.
"""
from __future__ import annotations

from . import batching, calls, construction, custom, elementwise, indexing, linalg, lists, reductions, revolve, runtime, shapes  # noqa: F401
from .registry import (P_ATOM, PRIMS, Form, Primitive, Spelling, call, evaluate, fold_value, get, prim,  # noqa: F401
                       trace_name)
