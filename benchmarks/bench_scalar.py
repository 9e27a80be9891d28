"""Workload 1: per-call gradient latency of f(x1, x2) = log(x1) + x1*x2 - sin(x2)."""
from __future__ import annotations

import adc

import harness
from harness import Candidate, Config, Table
from handwritten import f_grad as f_grad_hand
from workloads import f

X1, X2 = 2.0, 5.0


def run(cfg: Config) -> Table:
    """Workload 1: gradient latency of the lecture function."""
    t = Table("scalar", "Workload 1: f(x1, x2) = log(x1) + x1*x2 - sin(x2), gradient per call",
              {"x1": X1, "x2": X2})
    ref = f_grad_hand(X1, X2)
    args = (X1, X2)
    notes = []

    # adc through its public API
    t.add(Candidate("adc_py", "adc reverse, Python", adc.grad(f, argnums=(0, 1)), args, tool="adc"), ref=ref)
    t.add(Candidate("adc_jit", "adc reverse, jit=True", adc.grad(f, argnums=(0, 1), jit=True), args, tool="adc"),
          ref=ref)
    # adc's generated code without the API layer (diagnostic)
    try:
        gen, t.extra["generated_source"] = harness.generated_function(f, (0, 1), args)
        t.add(Candidate("adc_gen_py", "adc generated code, exec'd (no API layer) [diagnostic]", gen, args,
                        tool="adc"), ref=ref)
        njit = harness.numba_njit()
        if njit is not None:
            t.add(Candidate("adc_gen_jit", "adc generated code, njit (no API layer) [diagnostic]", njit(gen), args,
                            tool="adc"), ref=ref)
    except Exception as exc:
        notes.append(f"adc.source failed: {type(exc).__name__}: {exc}")

    t.add(Candidate("hand_py", "hand-written, Python", f_grad_hand, args, tool="hand"), ref=ref)
    njit = harness.numba_njit()
    if njit is not None:
        t.add(Candidate("hand_numba", "hand-written, Numba", njit(f_grad_hand), args, tool="hand"), ref=ref)
    else:
        t.skip("hand_numba", "hand-written, Numba", harness.missing_note("numba"), tool="hand")

    ag = harness.optional("autograd")
    if ag is not None:
        anp = harness.optional("autograd.numpy")

        def f_ag(x1, x2):
            return anp.log(x1) + x1 * x2 - anp.sin(x2)

        t.add(Candidate("autograd", "autograd", ag.grad(f_ag, argnum=(0, 1)), args, tool="peer"), ref=ref)
    else:
        t.skip("autograd", "autograd", harness.missing_note("autograd"))

    jax = harness.jax_module()
    if jax is not None:
        jnp = jax.numpy

        def f_jax(x1, x2):
            return jnp.log(x1) + x1 * x2 - jnp.sin(x2)

        jg = jax.grad(f_jax, argnums=(0, 1))
        jj = jax.jit(jg)
        block = jax.block_until_ready
        t.add(Candidate("jax_eager", "JAX grad, eager", lambda a, b: block(jg(a, b)), args, tool="peer"), ref=ref)
        t.add(Candidate("jax_jit", "JAX jit(grad)", lambda a, b: block(jj(a, b)), args, tool="peer",
                        note="includes block_until_ready"), ref=ref)
    else:
        t.skip("jax_eager", "JAX grad, eager", harness.missing_note("jax"))
        t.skip("jax_jit", "JAX jit(grad)", harness.missing_note("jax"))

    torch = harness.optional("torch")
    if torch is not None:
        def torch_grad(x1, x2):
            a = torch.tensor(x1, dtype=torch.float64, requires_grad=True)
            b = torch.tensor(x2, dtype=torch.float64, requires_grad=True)
            out = torch.log(a) + a * b - torch.sin(b)
            ga, gb = torch.autograd.grad(out, (a, b))
            return ga.item(), gb.item()

        t.add(Candidate("torch", "PyTorch eager", torch_grad, args, tool="peer",
                        note="float inputs → leaf tensors → autograd.grad → .item()"), ref=ref)
    else:
        t.skip("torch", "PyTorch eager", harness.missing_note("torch"))

    # the function itself
    t.add(Candidate("f_py", "f itself, Python", f, args, kind="function", tool="function"))
    if njit is not None:
        t.add(Candidate("f_numba", "f itself, Numba", njit(f), args, kind="function", tool="function"))

    t.run(cfg)
    t.extra["reference_keys"] = [("hand_py", "÷ hand Python"), ("hand_numba", "÷ hand Numba")]
    t.extra["ratios"] = [
        ("adc Python / hand-written Python", t.ratio("adc_py", "hand_py")),
        ("adc jit / hand-written Numba", t.ratio("adc_jit", "hand_numba")),
        ("adc Python gradient / f Python (cheap gradient)", t.ratio("adc_py", "f_py")),
        ("adc jit gradient / f Numba (cheap gradient)", t.ratio("adc_jit", "f_numba")),
        ("[diag] adc generated Python / hand-written Python", t.ratio("adc_gen_py", "hand_py")),
        ("[diag] adc generated njit / hand-written Numba", t.ratio("adc_gen_jit", "hand_numba")),
        ("[diag] adc API overhead, Python (adc_py - generated)", None),
    ]
    a, g = t.time("adc_py"), t.time("adc_gen_py")
    t.extra["ratios"].pop()
    if a is not None and g is not None:
        notes.append(f"adc API layer costs about {(a - g) * 1e6:.2f} µs per call (adc Python minus its generated "
                     f"code exec'd directly)")
    if notes:
        t.extra["notes"] = notes
    return t


if __name__ == "__main__":
    harness.main(run)
