"""Workload 2: gradient of a scalar loop over an array of n = 1000."""
from __future__ import annotations

import os
import statistics
import tempfile

import numpy as np

import adc

import harness
from handwritten import loop_sum_grad as loop_grad_hand
from harness import Candidate, Config, Table
from workloads import loop_sum

N = 1000
JAX_UNROLLED_CAP = 60.0  # seconds of compile time for the unrolled loop before it is skipped


def first_call(cfg: Config) -> dict[str, str]:
    """adc jit first-call latency in fresh processes: empty cache, then the same cache reused."""
    out: dict[str, str] = {}
    if "NUMBA_CACHE_DIR" in os.environ:
        out["note"] = f"NUMBA_CACHE_DIR={os.environ['NUMBA_CACHE_DIR']} is set: Numba's cache is not beside adc's"
    reps = 1 if cfg.quick else 3
    cold, warm, numba_hand, source = [], [], [], []
    errors = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="adc-bench-cache-") as d:
            env = dict(os.environ, ADC_CACHE_DIR=d)
            r1 = harness.run_json(["_first_call.py", "--mode", "adc_jit"], env=env, timeout=300)
            r2 = harness.run_json(["_first_call.py", "--mode", "adc_jit"], env=env, timeout=300)
            r3 = harness.run_json(["_first_call.py", "--mode", "adc_source"], env=env, timeout=300)
        r4 = harness.run_json(["_first_call.py", "--mode", "numba_hand"], timeout=300)
        for r, acc in ((r1, cold), (r2, warm), (r3, source), (r4, numba_hand)):
            if r.get("status") == "ok":
                acc.append(r)
            else:
                errors.append(r.get("note", str(r)))

    def med(rs: list[dict], k: str) -> float | None:
        return statistics.median(r[k] for r in rs) if rs else None

    res = {
        "cold_first_call_s": med(cold, "first_call_s"), "cold_import_s": med(cold, "import_s"),
        "warm_first_call_s": med(warm, "first_call_s"), "warm_import_s": med(warm, "import_s"),
        "transformation_only_s": med(source, "first_call_s"),
        "numba_hand_first_call_s": med(numba_hand, "first_call_s"),
        "cold_all": [round(r["first_call_s"], 3) for r in cold], "warm_all": [round(r["first_call_s"], 3) for r in warm],
        "processes_each": reps, "errors": errors,
    }
    return res


def run(cfg: Config) -> Table:
    """Workload 2: gradient of a 1000-element scalar loop."""
    t = Table("loop", "Workload 2: s = sum_i sin(x[i])*x[i+1] + (x[i]-x[i+1])**2 over n = 1000, gradient",
              {"n": N, "x": "uniform(-1, 1), seed 0"})
    x = np.random.default_rng(0).uniform(-1.0, 1.0, N)
    ref = loop_grad_hand(x)
    notes: list[str] = []
    njit = harness.numba_njit()

    t.add(Candidate("adc_py", "adc reverse, Python", adc.grad(loop_sum), (x,), tool="adc"), ref=ref)
    g_jit = adc.grad(loop_sum, jit=True)
    t.add(Candidate("adc_jit", "adc reverse, jit=True", g_jit, (x,), tool="adc"), ref=ref)
    try:
        gen, t.extra["generated_source"] = harness.generated_function(loop_sum, 0, (x,))
        t.add(Candidate("adc_gen_py", "adc generated code, exec'd (no API layer) [diagnostic]", gen, (x,), tool="adc"),
              ref=ref)
        if njit is not None:
            t.add(Candidate("adc_gen_jit", "adc generated code, njit (no API layer) [diagnostic]", njit(gen), (x,),
                            tool="adc"), ref=ref)
    except Exception as exc:
        notes.append(f"adc.source failed: {type(exc).__name__}: {exc}")

    t.add(Candidate("hand_py", "hand-written, Python (loop on ndarray)", loop_grad_hand, (x,), tool="hand"), ref=ref)
    if njit is not None:
        t.add(Candidate("hand_numba", "hand-written, Numba", njit(loop_grad_hand), (x,), tool="hand"), ref=ref)
    else:
        t.skip("hand_numba", "hand-written, Numba", harness.missing_note("numba"), tool="hand")

    ag = harness.optional("autograd")
    if ag is not None:
        anp = harness.optional("autograd.numpy")

        def loop_ag(x):
            s = 0.0
            for i in range(len(x) - 1):
                s = s + anp.sin(x[i]) * x[i + 1] + (x[i] - x[i + 1]) ** 2
            return s

        t.add(Candidate("autograd", "autograd", ag.grad(loop_ag), (x,), tool="peer", max_rounds=9), ref=ref)
    else:
        t.skip("autograd", "autograd", harness.missing_note("autograd"))

    jax = harness.jax_module()
    if jax is not None:
        jnp, lax = jax.numpy, jax.lax

        def loop_fori(x):
            def body(i, s):
                return s + jnp.sin(x[i]) * x[i + 1] + (x[i] - x[i + 1]) ** 2
            return lax.fori_loop(0, x.shape[0] - 1, body, 0.0)

        xj = jnp.asarray(x)
        gj = jax.jit(jax.grad(loop_fori))
        _, compile_s = harness.once(lambda: jax.block_until_ready(gj(xj)))
        t.add(Candidate("jax_fori", "JAX jit(grad) of lax.fori_loop", lambda v: jax.block_until_ready(gj(v)), (xj,),
                        tool="peer", note=f"compile + first call {compile_s:.2f} s"), ref=ref)
        # the Python loop under jit is unrolled at trace time: its own process, with a cap
        n_unrolled = 50 if cfg.quick else N
        r = harness.run_json(["_jax_unrolled.py", "--n", str(n_unrolled), "--repeats", "5" if cfg.quick else "21"],
                             timeout=JAX_UNROLLED_CAP + 60)
        label = "JAX jit(grad) of the Python loop (unrolled)"
        if r.get("status") == "ok" and r["compile_s"] <= JAX_UNROLLED_CAP and n_unrolled == N:
            ok, err = harness.check(np.asarray(r["grad"]), ref)
            row = {"key": "jax_unrolled", "label": label, "kind": "gradient", "tool": "peer",
                   "status": "ok" if ok else "wrong", "median_s": r["median_s"] if ok else None,
                   "q1_s": r["q1_s"], "q3_s": r["q3_s"], "min_s": None, "repeats": r["repeats"],
                   "number": r["number"],
                   "note": f"compile + first call {r['compile_s']:.1f} s (separate process); max rel err {err:.1e}"}
            t.add_row(row)
        elif r.get("status") == "ok" and n_unrolled != N:
            t.skip("jax_unrolled", label, f"--quick: smoke-tested at n = {n_unrolled} only "
                   f"(compile {r['compile_s']:.1f} s, {r['median_s'] * 1e6:.0f} µs per call)")
        elif r.get("status") == "ok":
            t.skip("jax_unrolled", label, f"compile took {r['compile_s']:.1f} s > cap {JAX_UNROLLED_CAP:.0f} s")
        elif r.get("status") == "timeout":
            t.skip("jax_unrolled", label, f"compile exceeded the {JAX_UNROLLED_CAP:.0f} s cap ({r['note']})")
        else:
            t.skip("jax_unrolled", label, r.get("note", "failed"))
    else:
        t.skip("jax_fori", "JAX jit(grad) of lax.fori_loop", harness.missing_note("jax"))
        t.skip("jax_unrolled", "JAX jit(grad) of the Python loop (unrolled)", harness.missing_note("jax"))

    torch = harness.optional("torch")
    if torch is not None:
        def torch_grad(xa):
            xt = torch.tensor(xa, dtype=torch.float64, requires_grad=True)
            s = torch.zeros((), dtype=torch.float64)
            for i in range(len(xa) - 1):
                s = s + torch.sin(xt[i]) * xt[i + 1] + (xt[i] - xt[i + 1]) ** 2
            (g,) = torch.autograd.grad(s, xt)
            return g.numpy()

        t.add(Candidate("torch", "PyTorch eager", torch_grad, (x,), tool="peer", max_rounds=9), ref=ref)
    else:
        t.skip("torch", "PyTorch eager", harness.missing_note("torch"))

    t.add(Candidate("f_py", "loop_sum itself, Python", loop_sum, (x,), kind="function", tool="function"))
    if njit is not None:
        t.add(Candidate("f_numba", "loop_sum itself, Numba", njit(loop_sum), (x,), kind="function", tool="function"))

    t.run(cfg)
    t.extra["reference_keys"] = [("hand_py", "÷ hand Python"), ("hand_numba", "÷ hand Numba")]
    t.extra["ratios"] = [
        ("adc Python / hand-written Python", t.ratio("adc_py", "hand_py")),
        ("adc jit / hand-written Numba", t.ratio("adc_jit", "hand_numba")),
        ("adc Python gradient / loop_sum Python (cheap gradient)", t.ratio("adc_py", "f_py")),
        ("adc jit gradient / loop_sum Numba (cheap gradient)", t.ratio("adc_jit", "f_numba")),
        ("[diag] adc generated Python / hand-written Python", t.ratio("adc_gen_py", "hand_py")),
        ("[diag] adc generated njit / hand-written Numba", t.ratio("adc_gen_jit", "hand_numba")),
    ]
    fc = first_call(cfg)
    t.extra["first_call_raw"] = fc

    def s(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f} s"

    t.extra["first_call"] = {
        "adc jit first call, fresh process, empty ADC_CACHE_DIR (transformation + Numba compile)":
            f"{s(fc['cold_first_call_s'])} (median of {fc['processes_each']}: {fc['cold_all']}); imports before it "
            f"(adc, numba) {s(fc['cold_import_s'])}",
        "adc jit first call, fresh process, same ADC_CACHE_DIR (Numba on-disk cache)":
            f"{s(fc['warm_first_call_s'])} (median of {fc['processes_each']}: {fc['warm_all']})",
        "adc transformation alone (adc.source in a fresh process, no Numba)": s(fc["transformation_only_s"]),
        "hand-written gradient, numba.njit first call in a fresh process (Numba's own compile)":
            s(fc["numba_hand_first_call_s"]),
    }
    if fc["errors"]:
        t.extra["first_call"]["errors"] = "; ".join(fc["errors"])
    if notes:
        t.extra["notes"] = notes
    return t


if __name__ == "__main__":
    harness.main(run)
