"""Custom derivative rules with JAX's API: ``adc.custom_vjp`` and ``adc.custom_jvp``.

Input: a user function and its rule functions (plain Python that adc reads like any other code).
Output: a callable that runs the function as it is, and that adc, when it meets a call of it inside
a differentiated function, differentiates with the rule: ``custom_vjp`` in reverse mode (the
forward part ``fwd(*args) -> (out, residuals)`` runs in the forward sweep, ``bwd(residuals, g) ->
cotangents`` in the reverse sweep; forward mode differentiates ``fwd``'s computation of ``out``),
``custom_jvp`` in forward mode (``jvp(primals, tangents) -> (out, tangent_out)``) and, transposed, in
reverse mode (``prims/custom.py``; docs/custom-rules.md).
"""
from __future__ import annotations

import functools
from typing import Any, Callable


class _Custom:
    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun = fun
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __repr__(self) -> str:  # IR listings show it by name (deterministic)
        return f"{type(self).__name__}({self.fun.__qualname__})"


class custom_vjp(_Custom):  # noqa: N801  (JAX's name)
    """``@adc.custom_vjp`` on a function ``f``, then ``f.defvjp(fwd, bwd)``:

    - ``fwd(*args)`` returns ``(f(*args), residuals)`` (any tuple or container of values);
    - ``bwd(residuals, g)`` returns a tuple with one cotangent per argument of ``f``, each of its
      argument's shape (a number for a number, an array for an array).

    Example:

    ```python
    @adc.custom_vjp
    def clip_gradient(x):
        return x

    def clip_fwd(x):
        return x, ()

    def clip_bwd(residuals, g):
        return (np.clip(g, -1.0, 1.0),)

    clip_gradient.defvjp(clip_fwd, clip_bwd)
    ```

    Then ``adc.grad(lambda x: np.sum(clip_gradient(x * 10.0) ** 2))(np.array([0.01, -0.5]))`` is
    ``[2., -10.]`` (docs/custom-rules.md).
    """

    fwd: Callable[..., Any] | None = None
    bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        self.fwd, self.bwd = fwd, bwd


class custom_jvp(_Custom):  # noqa: N801  (JAX's name)
    """``@adc.custom_jvp`` on a function ``f``, then ``@f.defjvp`` on
    ``jvp(primals, tangents) -> (f(*primals), tangent_out)``, used by forward mode (``jvp``,
    ``jacfwd``, ``grad(..., mode="forward")``).

    Example:

    ```python
    @adc.custom_jvp
    def log1pexp(x):
        return np.log1p(np.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t / (1.0 + np.exp(-x))
    ```
    """

    jvp: Callable[..., Any] | None = None

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        self.jvp = jvp
        return jvp
