"""Front end, statements run for an effect: expression statements, generators, coroutines.

Input: a libcst expression statement (or the function being lowered).  Output: always an
``UnsupportedError`` at the user's line.  Only an expression adc can prove pure (names, numbers,
arithmetic, calls of the math/NumPy functions it knows) is reported as having "no effect", with the
hint to remove it; a call whose effect adc cannot see (``y.sort()``, ``np.multiply.at(y, i, v)``,
``print(y)``, a helper called for what it writes) is named, with a hint that keeps the function's
meaning.
"""
from __future__ import annotations

import inspect
import types as pytypes
from typing import Any

import libcst as cst

from .errors import UnsupportedError
from .frontend_arrays import numpy_handler

# expression nodes that only compute a value (their calls are checked one by one)
PURE_NODES = (
    cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis,
    cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp,
    cst.Subscript, cst.Attribute, cst.Tuple, cst.List, cst.Call,
)
# in-place calls people write, with a rewrite into the supported language that means the same
REWRITES = {
    "sort": "assign the sorted copy instead, which means the same: `{base}[{colons}] = np.sort({base})`",
    "fill": "assign instead, which means the same: `{base}[{colons}] = {a0}`",
    "at": "for a single index, write `{a0}[{a1}] {op}= {a2}` instead, which means the same (np.add.at itself "
          "is supported)",
    "copyto": "assign instead, which means the same: `{a0}[{colons}] = {a1}`",
    "append": "build an array instead: `y = np.zeros(n)`, then `y[i] = v` in the loop",
}
GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR | inspect.CO_COROUTINE | \
    inspect.CO_ITERABLE_COROUTINE


class EffectStatements:
    """Mixin for ``Lowerer``: statements that exist for what they do, not what they compute."""

    src: Any

    def check_plain_function(self) -> None:
        """Refuse generators and coroutines before lowering any statement of them."""
        node, code = self.src.node, self.src.fn.__code__
        if node.asynchronous is not None or code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
            raise self.fail(node, f"`{self.src.fn.__name__}` is an async function",
                            "adc differentiates plain functions: remove `async` and `await`")
        if code.co_flags & GENERATOR_FLAGS:
            found = first_yield(node.body)
            raise self.fail(found or node, f"`{self.src.fn.__name__}` is a generator (it uses `yield`)",
                            "adc differentiates functions that return their result: collect the values in an "
                            "array and `return` it")

    def expression_statement(self, node: cst.Expr) -> UnsupportedError:
        """The error for an expression statement: "no effect" only if it is provably pure."""
        impure = self.first_impure_call(node.value)
        if impure is None:
            return self.fail(node, "expression statement has no effect on the result",
                             "remove it: its value is not used, so removing it does not change the function")
        call, callee = impure
        if not isinstance(call, cst.Call):
            return self.unsupported(call)
        text = self.src_text(call)
        if callee is print:
            return self.fail(call, f"expression statement `{text}`: adc does not run calls made for their output "
                                   "(printing) in the code it generates",
                             "remove the print call from the differentiated function (it does not change the "
                             "result), or print the values the function returns")
        if isinstance(callee, pytypes.FunctionType):
            return self.fail(call, f"call `{text}` as a statement: adc inlines `{callee.__name__}` for the value it "
                                   "returns, and does not support calling it for an effect (such as writing into "
                                   "an array)",
                             f"make `{callee.__name__}` return what it computes and assign the result, e.g. "
                             f"`y = {callee.__name__}(...)`")
        return self.fail(call, f"call `{text}` for its side effect: adc does not support in-place NumPy calls "
                               "or other calls made for their side effects yet", self.rewrite_hint(call))

    def first_impure_call(self, node: cst.CSTNode) -> tuple[cst.BaseExpression, Any] | None:
        """The first call in ``node`` that adc cannot prove pure, with what its callee is; or the
        first expression that is not a plain computation (``lambda``, ``:=`` ...) with ``None``."""
        if isinstance(node, cst.Call):
            callee = self.callee(node.func)
            if not self.is_pure_callee(callee):
                return node, callee
        elif isinstance(node, cst.BaseExpression) and not isinstance(node, PURE_NODES):
            return node, None
        for child in node.children:
            found = self.first_impure_call(child)
            if found is not None:
                return found
        return None

    def callee(self, func: cst.BaseExpression) -> Any:
        """What ``func`` names: a Python object (``print``, a user function), a front-end value
        (``Prim``, ``ArrayFn``, ``Method``), or ``None`` when adc does not know it."""
        if isinstance(func, cst.Name) and func.value not in self.env:
            for scope in (self.closure, self.src.fn.__globals__):
                if func.value in scope:
                    return scope[func.value]
            import builtins

            return getattr(builtins, func.value, None)
        try:
            return self.expr(func)
        except UnsupportedError:
            return None

    def is_pure_callee(self, callee: Any) -> bool:
        from .frontend import KNOWN_FUNCTIONS, ArrayFn, Method, Prim

        if isinstance(callee, (Prim, ArrayFn, Method)):
            return True  # math/NumPy functions and array methods adc lowers compute a new value
        try:
            return callee in KNOWN_FUNCTIONS or numpy_handler(callee) is not None
        except TypeError:  # unhashable
            return False

    def rewrite_hint(self, call: cst.Call) -> str:
        """A rewrite of a known in-place call into the supported language, meaning the same."""
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        args = [self.src_text(a.value) for a in call.args]
        base = self.src_text(func.value) if isinstance(func, cst.Attribute) else ""
        target = base if name in ("fill", "sort") else args[0] if args else ""
        ufunc = func.value.attr.value if name == "at" and isinstance(func.value, cst.Attribute) else ""
        op = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "true_divide": "/"}.get(ufunc)
        hint = REWRITES.get(name)
        needed = {"fill": 1, "at": 3, "copyto": 2}.get(name, 0)
        if hint is None or len(args) < needed or any(a.keyword for a in call.args) or (name == "at" and op is None):
            return ("adc supports writes as assignments (`y[i] = v`, `y[a:b] = v`, `y[i] += v`) into arrays the "
                    "function creates: rewrite the call in that form")
        texts = dict(zip(("a0", "a1", "a2"), args))
        return hint.format(base=base, colons=", ".join([":"] * max(self.ndim_of(target), 1)), op=op, **texts)

    def ndim_of(self, text: str) -> int:
        value = self.env.get(text)
        t = getattr(value, "type", None)
        return t.ndim if t is not None else 1

    def src_text(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node)


def first_yield(body: cst.CSTNode) -> cst.CSTNode | None:
    """The first ``yield`` / ``await`` of a function body (not of functions nested in it)."""
    found: list[cst.CSTNode] = []

    class Find(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Yield(self, node: cst.Yield) -> None:
            found.append(node)

        def visit_Await(self, node: cst.Await) -> None:
            found.append(node)

    body.visit(Find())
    return found[0] if found else None
