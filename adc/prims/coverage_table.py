"""Print docs/coverage.md, the coverage table generated from the registry (``lexicon.markdown``):
``python -m adc.prims.coverage_table > docs/coverage.md``."""
import sys

from .lexicon import markdown

if __name__ == "__main__":
    sys.stdout.write(markdown())
