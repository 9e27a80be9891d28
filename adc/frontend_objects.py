"""Front end, objects: ``self.W`` and ``self.helper(x)`` in a method, a global ``model`` of a plain
class, static and class methods.

Input: an instance of a user's class (or the class itself, for ``cls`` and ``Model.helper``) and
the attribute a function reads from it.  Output: what the attribute means, as for a global: an
array attribute is an input of the program read from the instance at every call (``Captured``
with the instance's ``__dict__`` as holder), a number a constant (``identity.py`` keys the
derivative by the instance's attributes, so a rebinding is seen on the next call), a method a
function to inline with ``self`` bound, a static method a plain function.
"""
from __future__ import annotations

import functools
import inspect
import sys
import types as pytypes
from dataclasses import dataclass
from typing import Any

import libcst as cst
import numpy as np


@dataclass(frozen=True)
class Instance:
    """An object of a user's class, or a user's class (``cls``), inside the function."""

    obj: Any


@dataclass(frozen=True)
class BoundMethod:
    """``self.helper`` / ``model.loss`` / ``cls.make``: a function with its first argument bound."""

    fn: pytypes.FunctionType
    self: Instance


def is_user_class(obj: Any) -> bool:
    """A class the user wrote: not a builtin or standard-library class, and not one of an installed
    package (adc reads the attributes and methods of a user's classes only)."""
    if not isinstance(obj, type) or issubclass(obj, BaseException):
        return False
    top = obj.__module__.split(".")[0]
    path = str(getattr(sys.modules.get(obj.__module__), "__file__", None) or "")
    return top not in sys.stdlib_module_names and top not in ("builtins", "adc") \
        and "site-packages" not in path and "dist-packages" not in path


def is_plain_object(obj: Any) -> bool:
    """An instance of a user's class whose attributes live in its ``__dict__`` (not a function,
    module, class or array)."""
    return isinstance(getattr(obj, "__dict__", None), dict) and is_user_class(type(obj)) \
        and not isinstance(obj, (type, pytypes.ModuleType, pytypes.FunctionType, pytypes.MethodType,
                                 functools.partial, np.ndarray))


def bound_method(method: pytypes.MethodType) -> BoundMethod | None:
    """``obj.f`` as a ``BoundMethod`` when ``f`` is a plain function and ``obj`` a plain object or class."""
    fn, owner = method.__func__, method.__self__
    if isinstance(fn, pytypes.FunctionType) and (is_plain_object(owner) or is_user_class(owner)):
        return BoundMethod(fn, Instance(owner))
    return None


def describe_object(value: Instance) -> str:
    obj = value.obj
    return f"the class {obj.__name__}" if is_user_class(obj) else f"an object of class {type(obj).__name__}"


class ObjectAttributes:
    """Mixin for ``Lowerer``: attributes of objects and classes."""

    def object_attribute(self, base: Instance, attr: str, node: cst.Attribute) -> Any:
        obj = base.obj
        own = vars(obj)
        if not is_user_class(obj) and attr in own:  # an instance attribute: read like a global
            value = own[attr]  # a string is an option (self.activation == "tanh"), as a string default
            if isinstance(value, (list, tuple, dict)):
                kind = type(value).__name__
                raise self.fail(node, f"`{self.src_text(node)}` is an attribute holding a {kind}; adc reads numbers, "
                                      "arrays, strings, objects and methods from attributes, not containers",
                                f"pass the {kind} as an argument (it may be a tree of arrays), or hold each array in "
                                "an attribute of its own")
            return value if isinstance(value, str) else self.outer_value(value, own, attr, node)
        owner = next((k for k in (obj.__mro__ if is_user_class(obj) else type(obj).__mro__) if attr in vars(k)), None)
        what = f"`{type(obj).__name__ if not is_user_class(obj) else obj.__name__}.{attr}`"
        if owner is None:
            raise self.fail(node, f"{what} is not defined (no attribute `{attr}`)",
                            "set it in __init__ (`self." + attr + " = ...`) before differentiating")
        raw = vars(owner)[attr]
        if isinstance(raw, staticmethod):
            return self.classify(raw.__func__, node)
        if isinstance(raw, (classmethod, pytypes.FunctionType)):
            found = bound_method(getattr(obj, attr)) if not (isinstance(raw, pytypes.FunctionType)
                                                             and is_user_class(obj)) else None
            if found is not None:
                return found
            if isinstance(raw, pytypes.FunctionType):  # Model.f: the plain function
                return self.classify(raw, node)
        if isinstance(raw, property) or inspect.isdatadescriptor(raw):
            raise self.fail(node, f"{what} is a property; adc reads attributes that hold values, and methods",
                            f"call a method instead (`self.{attr}_value()`), or store the value as an attribute")
        if isinstance(raw, (pytypes.FunctionType, classmethod, staticmethod)):
            raise self.fail(node, f"{what}: unsupported kind of method", "call a plain method or function")
        return self.outer_value(raw, vars(owner), attr, node)
