"""adc: automatic differentiation of Python source by source transformation.

``adc.grad``, ``adc.value_and_grad``, ``adc.jvp``, ``adc.vjp`` differentiate plain numeric Python;
``adc.source`` shows the generated derivative code and ``adc.trace`` the SSA evaluation trace.
"""
from .api import grad, hessian, hvp, jacfwd, jacrev, jvp, source, trace, value_and_grad, vjp
from .prims.revolve import checkpointed
from .custom import custom_jvp, custom_vjp
from .sparse import sparse_hessian, sparse_jacobian
from .batched import batched_jvp
from .errors import (AdcError, CompileError, DifferentiationError, EvaluationError, InternalError, ParallelFallbackWarning,
                     SourceError, UnsupportedError)

__all__ = ["grad", "value_and_grad", "jvp", "batched_jvp", "vjp", "jacfwd", "jacrev", "hessian", "hvp", "sparse_jacobian",
           "sparse_hessian", "source", "trace",
           "custom_vjp", "custom_jvp", "checkpointed", "AdcError", "UnsupportedError",
           "SourceError", "DifferentiationError", "CompileError", "EvaluationError", "InternalError", "ParallelFallbackWarning"]
__version__ = "0.1.0"
