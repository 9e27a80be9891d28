"""All naming of generated Python variables lives here.

Input: a program (and the set of names the user's code already uses).  Output: a mapping from each
value to a Python identifier.  User variables keep their names (``h``, then ``h_1`` for the next SSA
version), temporaries take their trace number (``v3``), tangents prefix ``d`` and adjoints prefix
``g`` to the name of their primal (``dx``, ``gx``).  Every derived name is checked against every
name the user wrote and every name already given, so a user variable called ``dx`` or ``v3`` never
collides with a generated one.
"""
from __future__ import annotations

import keyword
import symtable

from .ir import Program, Var, number_values

# the builtins generated code calls (the primitives' spellings, loops, clips); a user variable with
# one of these names is renamed in generated code (``def f(x, range)``: ``range_1``), where it would
# hide the builtin.  ``free_names`` lets the test suite check that the list is complete.
GENERATED_BUILTINS = frozenset({"range", "len", "min", "max", "abs", "float", "int", "round", "slice"})
# the modules generated code imports (``import adc.prims.stacks as adc_stacks``: tests/test_naming_hygiene.py
# checks that every alias adc writes is here)
RESERVED = {"math", "np", "numba", "adc_special", "adc_arrays", "adc_stacks", "adc_revolve"} | GENERATED_BUILTINS


def free_names(source: str) -> set[str]:
    """The names the functions of the module ``source`` read that neither they nor the module
    define: builtins, which generated code may only take from ``GENERATED_BUILTINS``."""
    module = symtable.symtable(source, "<generated>", "exec")
    defined = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    found: set[str] = set()
    tables = list(module.get_children())
    while tables:
        table = tables.pop()
        tables += table.get_children()
        found |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    return {name for name in found - defined if not name.startswith("__")}  # ``super``'s ``__class__``


class Namer:
    """Gives out unique identifiers, never one of ``avoid`` unless it is a user name for its own var."""

    def __init__(self, avoid: set[str]) -> None:
        self.avoid = set(avoid) | RESERVED
        self.given: set[str] = set()

    def fresh(self, base: str, own: bool = False) -> str:
        """``base`` if free (``own``: it is the user's own name for this value), else ``base_1``, ..."""
        if own and base not in self.given and base not in RESERVED and not keyword.iskeyword(base):
            self.given.add(base)
            return base
        candidate, k = base, 0
        while candidate in self.given or candidate in self.avoid or keyword.iskeyword(candidate):
            k += 1
            candidate = f"{base}_{k}"
        self.given.add(candidate)
        return candidate


class Names:
    """Python names for the values of one generated function."""

    def __init__(self, program: Program, avoid: set[str], numbering: dict[Var, int] | None = None,
                 given: dict[Var, str] | None = None) -> None:
        """``given``: names fixed in advance (the residuals a forward part named, in its reverse part)."""
        self.namer = Namer(avoid)
        self.numbering = numbering if numbering is not None else number_values(program)
        self.names: dict[Var, str] = dict(given or {})
        self.namer.given.update(self.names.values())
        self.by_key: dict[tuple[str, int], str] = {}
        for p in program.params:
            self[p]

    def share(self, var: Var, other: Var) -> None:
        """Give ``var`` the same Python name as ``other`` (coalescing in/out-of-SSA copies)."""
        self.names[var] = self[other]

    def key(self, var: Var) -> object:
        """What identifies ``var``'s Python name, without giving it one (names are handed out in
        the order code generation meets them): two vars share a key iff they share a name."""
        name = self.names.get(var)
        if name is not None:
            return name
        if var.role in ("tangent", "adjoint") and var.base is not None:
            return self.by_key.get((var.role, var.base.id), (var.role, var.base.id))
        return ("unnamed", var.id)

    def __getitem__(self, var: Var) -> str:
        name = self.names.get(var)
        if name is None:
            name = self._name(var)
            self.names[var] = name
        return name

    def _name(self, var: Var) -> str:
        if var.role in ("tangent", "adjoint") and var.base is not None:
            # every version of one primal's adjoint (or tangent) shares a Python name
            key = (var.role, var.base.id)
            if key not in self.by_key:
                prefix = "d" if var.role == "tangent" else "g"
                self.by_key[key] = self.namer.fresh(prefix + self[var.base])
            return self.by_key[key]
        if var.role == "primal":
            if var.hint:
                return self.namer.fresh(var.hint, own=True)
            if var in self.numbering:
                return self.namer.fresh(f"v{self.numbering[var]}")
        return self.namer.fresh(var.hint or "t")
