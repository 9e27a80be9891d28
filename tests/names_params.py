"""Module-level values the functions of tests/test_naming_hygiene.py read as attributes (``names_params.SCALE``)."""
import numpy as np

SCALE = 2.0
WEIGHTS = np.array([1.0, 2.0])


def act(t):
    return t * t
