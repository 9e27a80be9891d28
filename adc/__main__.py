"""``python -m adc`` is the ``adc`` command."""
import sys

from .cli import main

if __name__ == "__main__":  # importing adc.__main__ (documentation tools do) runs nothing
    sys.exit(main())
