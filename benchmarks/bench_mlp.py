"""Workload 3: gradient of a two-layer MLP loss (batch 64, 3072-100-10, float64).

adc (Python, then ``jit=True``) and the hand-written NumPy backward pass are timed in one process,
alternating call by call, over many repeats; the ratio adc / hand-written is the figure for the
1.1x target, for each.  The allocator
setting (glibc ``MALLOC_*`` variables) is whatever this process was started with: run_all.py runs
this script once with the defaults and once with the large mmap/trim thresholds.
"""
from __future__ import annotations

import statistics
from typing import Any

import numpy as np

import adc

import harness
from handwritten import mlp_grad as mlp_grad_hand
from harness import Candidate, Config, Table
from workloads import mlp_loss

N, D, H, C = 64, 3072, 100, 10
REG = 0.1


def data() -> tuple:
    rng = np.random.default_rng(0)
    W1 = 1e-2 * rng.standard_normal((D, H))
    b1 = 1e-2 * rng.standard_normal(H)
    W2 = 1e-2 * rng.standard_normal((H, C))
    b2 = 1e-2 * rng.standard_normal(C)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    return W1, b1, W2, b2, X, y, REG


def paired(cfg: Config, a: Candidate, b: Candidate, f: Candidate) -> dict:
    """adc, hand-written (and the function itself) alternating, one call per sample, many samples."""
    rounds = 21 if cfg.quick else 401
    recs = harness.measure([a, b, f], cfg, rounds=rounds, target=0.0, budget=1e9)
    ratios = [x / y for x, y in zip(a.samples, b.samples)]
    return {"rows": recs, "ratio_of_medians": recs[0]["median_s"] / recs[1]["median_s"],
            "median_of_paired_ratios": statistics.median(ratios), "pairs": len(ratios)}


def alternating(t: Table, cfg: Config, key: str, label: str, grad: Any, args: tuple, ref: Any) -> dict | None:
    """Time one adc candidate against the hand-written gradient and ``mlp_loss``, alternating call
    by call (``paired``); the rows go into ``t``, the ratios are returned."""
    tag, note = ("", "") if key == "adc_py" else (key[key.index("_"):], f", alternating with {key}")
    t.add(Candidate(key, label, grad, args, tool="adc"), ref=ref, rtol=1e-9)
    t.add(Candidate("hand_numpy" + tag, "hand-written NumPy (CS231n backward)" + note, mlp_grad_hand, args,
                    tool="hand"), ref=ref)
    t.add(Candidate("f_py" + tag, "mlp_loss itself, NumPy" + note, mlp_loss, args, kind="function",
                    tool="function"))
    if len(t.pending) != 3 or t.pending[0].key != key:
        return None
    a, b, f = t.pending
    t.pending = []
    pair = paired(cfg, a, b, f)
    for r in pair["rows"]:
        r["note"] += (("; " if r["note"] else "") + f"alternating {key} / hand-written / mlp_loss, one call per "
                      f"sample, {pair['pairs']} rounds")
    t.rows.extend(pair["rows"])
    return pair


def run(cfg: Config) -> Table:
    """Workload 3: MLP loss gradient."""
    env = harness.environment()
    t = Table("mlp", "Workload 3: MLP loss (batch 64, 3072-100-10, ReLU, biases, softmax cross-entropy + L2), "
              "gradient w.r.t. W1, b1, W2, b2", {"N": N, "D": D, "H": H, "C": C, "reg": REG, "dtype": "float64",
                                                "allocator": env["allocator"]})
    args = data()
    W1, b1, W2, b2, X, y, reg = args
    ref = mlp_grad_hand(*args)
    notes: list[str] = []
    argnums = (0, 1, 2, 3)

    # 1. adc (Python, then jit=True) vs hand-written, alternating
    pair = alternating(t, cfg, "adc_py", "adc reverse, Python (NumPy)", adc.grad(mlp_loss, argnums=argnums), args, ref)
    g_jit = adc.grad(mlp_loss, argnums=argnums, jit=True)
    g_jit(*args)  # Numba compiles here, outside the samples
    jit_pair = alternating(t, cfg, "adc_jit", "adc reverse, jit=True (Numba dialect)", g_jit, args, ref)

    # 2. the rest, each candidate's samples back to back (JAX's and PyTorch's thread pools would
    #    otherwise compete with OpenBLAS's threads for the 2 cores in the next sample)
    try:
        gen, t.extra["generated_source"] = harness.generated_function(mlp_loss, argnums, args)
        t.add(Candidate("adc_gen_py", "adc generated code, exec'd (no API layer) [diagnostic]", gen, args,
                        tool="adc"), ref=ref, rtol=1e-9)
    except Exception as exc:
        notes.append(f"adc.source failed: {type(exc).__name__}: {exc}")

    ag = harness.optional("autograd")
    if ag is not None:
        anp = harness.optional("autograd.numpy")

        def mlp_ag(W1, b1, W2, b2, X, y, reg):
            n = X.shape[0]
            h = anp.maximum(0.0, anp.dot(X, W1) + b1)
            scores = anp.dot(h, W2) + b2
            shifted = scores - anp.max(scores, axis=1, keepdims=True)
            logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.sum(logp[anp.arange(n), y]) / n + 0.5 * reg * (anp.sum(W1 * W1) + anp.sum(W2 * W2))

        t.add(Candidate("autograd", "autograd", ag.grad(mlp_ag, argnum=argnums), args, tool="peer"), ref=ref,
              rtol=1e-9)
    else:
        t.skip("autograd", "autograd", harness.missing_note("autograd"))

    jax = harness.jax_module()
    if jax is not None:
        jnp = jax.numpy

        def mlp_jax(W1, b1, W2, b2, X, y, reg):
            n = X.shape[0]
            h = jnp.maximum(0.0, X @ W1 + b1)
            scores = h @ W2 + b2
            shifted = scores - jnp.max(scores, axis=1, keepdims=True)
            logp = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=1, keepdims=True))
            return -jnp.sum(logp[jnp.arange(n), y]) / n + 0.5 * reg * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2))

        jg = jax.jit(jax.grad(mlp_jax, argnums=argnums))
        jargs = tuple(jnp.asarray(v) for v in args[:6]) + (reg,)
        _, compile_s = harness.once(lambda: jax.block_until_ready(jg(*jargs)))
        t.add(Candidate("jax_jit", "JAX jit(grad)", lambda *a: jax.block_until_ready(jg(*a)), jargs, tool="peer",
                        note=f"inputs already on device; compile + first call {compile_s:.2f} s"), ref=ref, rtol=1e-9)
    else:
        t.skip("jax_jit", "JAX jit(grad)", harness.missing_note("jax"))

    torch = harness.optional("torch")
    if torch is not None:
        tW1, tb1, tW2, tb2 = (torch.from_numpy(v.copy()).requires_grad_() for v in (W1, b1, W2, b2))
        tX, ty = torch.from_numpy(X), torch.from_numpy(y)

        def torch_grad(W1, b1, W2, b2):
            n = tX.shape[0]
            h = torch.clamp(tX @ W1 + b1, min=0.0)
            scores = h @ W2 + b2
            shifted = scores - scores.max(dim=1, keepdim=True).values
            logp = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
            loss = -logp[torch.arange(n), ty].sum() / n + 0.5 * reg * ((W1 * W1).sum() + (W2 * W2).sum())
            return tuple(g.numpy() for g in torch.autograd.grad(loss, (W1, b1, W2, b2)))

        t.add(Candidate("torch", "PyTorch eager", torch_grad, (tW1, tb1, tW2, tb2), tool="peer",
                        note=f"torch threads {torch.get_num_threads()}"), ref=ref, rtol=1e-9)
    else:
        t.skip("torch", "PyTorch eager", harness.missing_note("torch"))

    njit = harness.numba_njit()
    if njit is not None:
        try:
            fn = njit(mlp_loss)
            fn(*args)
            t.add(Candidate("f_numba", "mlp_loss itself, Numba", fn, args, kind="function", tool="function"))
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            t.skip("f_numba", "mlp_loss itself, Numba", f"Numba cannot compile mlp_loss as written "
                   f"({type(exc).__name__}: {first})", kind="function", tool="function")
    t.run(cfg, interleave=False)

    t.extra["reference_keys"] = [("hand_numpy", "÷ hand NumPy")]
    t.extra["ratios"] = [
        ("adc / hand-written NumPy (alternating; ratio of medians)", pair["ratio_of_medians"] if pair else None),
        ("adc / hand-written NumPy (alternating; median of paired ratios)",
         pair["median_of_paired_ratios"] if pair else None),
        ("adc gradient / mlp_loss (cheap gradient, both NumPy)", t.ratio("adc_py", "f_py")),
        ("hand-written gradient / mlp_loss", t.ratio("hand_numpy", "f_py")),
        ("[diag] adc generated code / hand-written NumPy", t.ratio("adc_gen_py", "hand_numpy")),
        ("adc jit=True / hand-written NumPy (alternating; ratio of medians)",
         jit_pair["ratio_of_medians"] if jit_pair else None),
        ("adc jit=True / hand-written NumPy (alternating; median of paired ratios)",
         jit_pair["median_of_paired_ratios"] if jit_pair else None),
    ]
    t.extra["environment"] = env
    pf = {r["label"]: r.get("page_faults_per_call") for r in t.rows if r.get("page_faults_per_call") is not None}
    t.extra["page_faults"] = pf
    notes.append("minor page faults per call during the timed samples: "
                 + ", ".join(f"{k} {v:.0f}" for k, v in pf.items()))
    if notes:
        t.extra["notes"] = notes
    return t


if __name__ == "__main__":
    harness.main(run)
