"""Workload 4: explicit-Euler integration of x'' = -k x - c x' (1000 steps), gradient of
x(T)**2 + v(T)**2 with respect to (k, c)."""
from __future__ import annotations

import adc

import harness
from handwritten import ode_grad_arrays, ode_grad_py
from harness import Candidate, Config, Table
from workloads import ode_loss

K, C_, X0, V0, DT, STEPS = 4.0, 0.5, 1.0, 0.0, 0.01, 1000
ARGS = (K, C_, X0, V0, DT, STEPS)


def run(cfg: Config) -> Table:
    """Workload 4: ODE integrator gradient."""
    t = Table("ode", "Workload 4: explicit Euler, damped oscillator, 1000 steps; gradient of x(T)²+v(T)² w.r.t. (k, c)",
              {"k": K, "c": C_, "x0": X0, "v0": V0, "dt": DT, "steps": STEPS})
    ref = ode_grad_py(*ARGS)
    notes: list[str] = []
    njit = harness.numba_njit()
    argnums = (0, 1)

    t.add(Candidate("adc_py", "adc reverse, Python", adc.grad(ode_loss, argnums=argnums), ARGS, tool="adc"), ref=ref)
    t.add(Candidate("adc_jit", "adc reverse, jit=True", adc.grad(ode_loss, argnums=argnums, jit=True), ARGS,
                    tool="adc"), ref=ref)
    try:
        gen, t.extra["generated_source"] = harness.generated_function(ode_loss, argnums, ARGS)
        t.add(Candidate("adc_gen_py", "adc generated code, exec'd (no API layer) [diagnostic]", gen, ARGS, tool="adc"),
              ref=ref)
        if njit is not None:
            t.add(Candidate("adc_gen_jit", "adc generated code, njit (no API layer) [diagnostic]", njit(gen), ARGS,
                            tool="adc"), ref=ref)
    except Exception as exc:
        msg = f"{type(exc).__name__}: {exc}"
        notes.append(f"adc.source(ode_loss, argnums=(0, 1), at=args) failed: {msg}")
    # forward mode: 2 inputs, so 2 tangent passes; informative, not a target
    t.add(Candidate("adc_fwd_py", "adc forward mode, Python [not a target]",
                    adc.grad(ode_loss, argnums=argnums, mode="forward"), ARGS, tool="adc"), ref=ref)
    t.add(Candidate("adc_fwd_jit", "adc forward mode, jit=True [not a target]",
                    adc.grad(ode_loss, argnums=argnums, mode="forward", jit=True), ARGS, tool="adc"), ref=ref)

    t.add(Candidate("hand_py", "hand-written adjoint, Python (lists)", ode_grad_py, ARGS, tool="hand"), ref=ref)
    if njit is not None:
        t.add(Candidate("hand_numba", "hand-written adjoint, Numba (arrays)", njit(ode_grad_arrays), ARGS, tool="hand"),
              ref=ref)
    else:
        t.skip("hand_numba", "hand-written adjoint, Numba (arrays)", harness.missing_note("numba"), tool="hand")

    ag = harness.optional("autograd")
    if ag is not None:  # ode_loss is plain arithmetic: autograd's boxes go through it unchanged
        t.add(Candidate("autograd", "autograd", ag.grad(ode_loss, argnum=argnums), ARGS, tool="peer", max_rounds=15),
              ref=ref)
    else:
        t.skip("autograd", "autograd", harness.missing_note("autograd"))

    jax = harness.jax_module()
    if jax is not None:
        lax = jax.lax

        def ode_jax(k, c, x0, v0, dt, n):
            def body(i, st):
                x, v = st
                a = -k * x - c * v
                return x + dt * v, v + dt * a
            x, v = lax.fori_loop(0, n, body, (x0, v0))
            return x * x + v * v

        jg = jax.jit(jax.grad(ode_jax, argnums=argnums), static_argnums=(5,))
        _, compile_s = harness.once(lambda: jax.block_until_ready(jg(*ARGS)))
        t.add(Candidate("jax_fori", "JAX jit(grad) of lax.fori_loop", lambda *a: jax.block_until_ready(jg(*a)), ARGS,
                        tool="peer", note=f"compile + first call {compile_s:.2f} s"), ref=ref)
    else:
        t.skip("jax_fori", "JAX jit(grad) of lax.fori_loop", harness.missing_note("jax"))

    torch = harness.optional("torch")
    if torch is not None:
        def torch_grad(k, c, x0, v0, dt, n):
            kt = torch.tensor(k, dtype=torch.float64, requires_grad=True)
            ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
            x = torch.tensor(x0, dtype=torch.float64)
            v = torch.tensor(v0, dtype=torch.float64)
            for _ in range(n):
                a = -kt * x - ct * v
                x, v = x + dt * v, v + dt * a
            gk, gc = torch.autograd.grad(x * x + v * v, (kt, ct))
            return gk.item(), gc.item()

        t.add(Candidate("torch", "PyTorch eager", torch_grad, ARGS, tool="peer", max_rounds=15), ref=ref)
    else:
        t.skip("torch", "PyTorch eager", harness.missing_note("torch"))

    t.add(Candidate("f_py", "ode_loss itself, Python", ode_loss, ARGS, kind="function", tool="function"))
    if njit is not None:
        t.add(Candidate("f_numba", "ode_loss itself, Numba", njit(ode_loss), ARGS, kind="function", tool="function"))

    t.run(cfg)
    t.extra["reference_keys"] = [("hand_py", "÷ hand Python"), ("hand_numba", "÷ hand Numba")]
    t.extra["ratios"] = [
        ("adc Python / hand-written Python", t.ratio("adc_py", "hand_py")),
        ("adc jit / hand-written Numba", t.ratio("adc_jit", "hand_numba")),
        ("adc Python gradient / ode_loss Python (cheap gradient)", t.ratio("adc_py", "f_py")),
        ("adc jit gradient / ode_loss Numba (cheap gradient)", t.ratio("adc_jit", "f_numba")),
        ("hand-written Python / ode_loss Python", t.ratio("hand_py", "f_py")),
        ("hand-written Numba / ode_loss Numba", t.ratio("hand_numba", "f_numba")),
        ("[not a target] adc forward Python / ode_loss Python", t.ratio("adc_fwd_py", "f_py")),
        ("[not a target] adc forward jit / ode_loss Numba", t.ratio("adc_fwd_jit", "f_numba")),
    ]
    if notes:
        t.extra["notes"] = notes
    return t


if __name__ == "__main__":
    harness.main(run)
