"""Modules written by a test: adc reads source from files, so a test's program text is saved as a
module in a temporary folder and imported from there."""
import importlib.util
from pathlib import Path


def load_module(folder: Path, name: str, text: str):
    """The module ``name`` with source ``text``, written into ``folder`` and imported."""
    path = Path(folder) / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
