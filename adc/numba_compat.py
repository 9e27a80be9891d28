"""A fix for one Numba defect that adc's generated code can trigger.

Numba's array-expression fusion (``numba.np.ufunc.array_exprs``) names the parameters of a fused
expression by versioning each variable and replacing ``.`` with ``_``: Numba's version ``y.2``
of a reassigned ``y`` becomes ``y_2``, exactly the name adc gives the second SSA version of ``y``
(``y_2``, itself versioned ``y_2.1`` -> ``y_2_1``, and so on).  When both meet in one expression
Numba stops with ``AssertionError: 'y_2_2' not unique``.  The names are local to a generated
helper function, so any unique legal names do: this wraps the function to add a suffix where two
collide, and otherwise behaves exactly as Numba does.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

_patched = False


def patch_array_expression_names() -> None:
    """Install the fix once (idempotent; a no-op if Numba's internals have moved)."""
    global _patched
    if _patched:
        return
    _patched = True
    try:
        from numba.np.ufunc import array_exprs
    except ImportError:  # pragma: no cover - another Numba layout
        return
    if not hasattr(array_exprs, "_legalize_parameter_names"):  # pragma: no cover
        return

    @contextlib.contextmanager
    def legalize(var_list: Any) -> Iterator[list[str]]:
        renamed: list[tuple[Any, str]] = []
        names: list[str] = []
        for var in var_list:
            old_name = var.name
            name = var.scope.redefine(old_name, loc=var.loc).name.replace("$", "_").replace(".", "_")
            unique, k = name, 0
            while unique in names:
                k += 1
                unique = f"{name}__{k}"
            names.append(unique)
            renamed.append((var, old_name))
            var.name = unique
        try:
            yield names
        finally:  # restore the names, as Numba's own version does
            for var, old_name in renamed:
                var.name = old_name

    array_exprs._legalize_parameter_names = legalize
