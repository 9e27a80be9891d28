"""Markdown rendering of benchmark results (one workload table, the targets list)."""
from __future__ import annotations

from typing import Any


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs" if s < 1e-4 else f"{s * 1e6:.0f} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else (f"{r:.2f}x" if r < 100 else f"{r:.0f}x")


def table_markdown(result: dict[str, Any]) -> str:
    lines = [f"### {result['title']}", ""]
    if result.get("params"):
        lines.append("Parameters: " + ", ".join(f"{k} = {v}" for k, v in result["params"].items()))
        lines.append("")
    env = result.get("environment", {})
    if env:
        lines.append(f"Allocator: {env.get('allocator')}")
        lines.append("")
    refs = result.get("extra", {}).get("reference_keys") or []
    times = {r["key"]: r.get("median_s") for r in result["rows"]}
    head = "| implementation | what | median | IQR | samples × loops |"
    head += "".join(f" {title} |" for _, title in refs) + " note |"
    lines += [head, "|---|---|---|---|---|" + "---|" * len(refs) + "---|"]
    for r in result["rows"]:
        if r["status"] == "ok":
            iqr = f"{fmt_time(r.get('q1_s'))} – {fmt_time(r.get('q3_s'))}"
            reps = f"{r['repeats']} × {r['number']}"
            med = fmt_time(r["median_s"])
            rels = [fmt_ratio(r["median_s"] / times[k]) if times.get(k) else "—" for k, _ in refs]
        else:
            iqr, reps, med = "", "", r["status"].upper()
            rels = [""] * len(refs)
        note = (r.get("note") or "").replace("|", "\\|")
        lines.append(f"| {r['label']} | {r['kind']} | {med} | {iqr} | {reps} |" + "".join(f" {x} |" for x in rels)
                     + f" {note} |")
    ratios = result.get("extra", {}).get("ratios") or []
    if ratios:
        lines += ["", "| ratio | value |", "|---|---|"]
        for name, value in ratios:
            lines.append(f"| {name} | {fmt_ratio(value)} |")
    for key in ("first_call", "compile", "notes"):
        block = result.get("extra", {}).get(key)
        if block:
            lines += ["", f"**{key.replace('_', ' ')}**:", ""]
            if isinstance(block, dict):
                for k, v in block.items():
                    lines.append(f"- {k}: {v}")
            else:
                for v in block:
                    lines.append(f"- {v}")
    return "\n".join(lines) + "\n"


def targets_markdown(targets: list[dict[str, Any]]) -> str:
    lines = ["| target | measured | limit | result |", "|---|---|---|---|"]
    for t in targets:
        meas = t.get("shown") or ("—" if t.get("value") is None else fmt_ratio(t["value"]))
        lines.append(f"| {t['name']} | {meas} | {t['limit_text']} | **{t['status']}** |")
    return "\n".join(lines) + "\n"


def compact_markdown(result: dict[str, Any]) -> str:
    """A shorter table (no sample counts, short notes) for docs/performance.md."""
    refs = result.get("extra", {}).get("reference_keys") or []
    times = {r["key"]: r.get("median_s") for r in result["rows"]}
    head = "| implementation | median | IQR |" + "".join(f" {title} |" for _, title in refs)
    lines = [head, "|---|---|---|" + "---|" * len(refs)]
    for r in result["rows"]:
        if r["status"] == "ok":
            iqr = f"{fmt_time(r.get('q1_s'))} – {fmt_time(r.get('q3_s'))}"
            med = fmt_time(r["median_s"])
            rels = [fmt_ratio(r["median_s"] / times[k]) if times.get(k) else "—" for k, _ in refs]
        else:
            iqr, med = r["status"].upper(), ""
            rels = [""] * len(refs)
        label = r["label"] + (" *(function)*" if r["kind"] == "function" else "")
        lines.append(f"| {label} | {med} | {iqr} |" + "".join(f" {x} |" for x in rels))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python benchmarks/report.py results.json [--compact]
    import json
    import sys

    data = json.loads(open(sys.argv[1]).read())
    render = compact_markdown if "--compact" in sys.argv else table_markdown
    print(targets_markdown(data["targets"]))
    for key, res in data["results"].items():
        if res.get("rows"):
            print(f"#### {key}: {res['title']}\n")
            print(render(res))
            print(f"Other processes' load while it ran: {res.get('load', {}).get('other_processes_cores')} cores\n")
