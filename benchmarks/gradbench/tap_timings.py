"""Run a GradBench tool and keep the `first_call` timing of each of its `evaluate` answers.

Usage (as a `pipe.py --tool` command): python tap_timings.py OUT.json TOOL_COMMAND...

The protocol passes through unchanged: the eval's messages go to the tool, the tool's answers come
back line by line. For every answer that carries a timing named `first_call` (adc's tool reports
one per `evaluate`, docs/gradbench.md "Timings the tool reports"), the message's function and
that timing in seconds are appended to OUT.json, a list of `[function, seconds]`. `pipe.py` keeps
only the median of the `evaluate` timings, and its `--log` cuts long answers before their timings.
The timings are taken inside the tool, so the tap adds nothing to them.
"""
import json
import subprocess
import sys


def main(out: str, command: list[str]) -> int:
    """Relay stdin to the tool and the tool's answers to stdout, noting `first_call` timings."""
    tool = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    found: list[tuple[str, float]] = []
    for line in sys.stdin:
        message = json.loads(line)
        tool.stdin.write(line)
        tool.stdin.flush()
        answer = tool.stdout.readline()
        if not answer:
            break
        sys.stdout.write(answer)
        sys.stdout.flush()
        if message.get("kind") == "evaluate":
            for timing in json.loads(answer).get("timings") or []:
                if timing.get("name") == "first_call":
                    found.append((message["function"], timing["nanoseconds"] / 1e9))
            with open(out, "w") as f:
                json.dump(found, f)
    tool.stdin.close()
    return tool.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
