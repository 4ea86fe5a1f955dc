"""The seed's workload, as a job's command runs it: ``python examples/series-sum/main.py``.

The code lives in ``kelpie.examples.series_sum`` so that ``kelpie demo`` finds it after a plain
``pip install kelpie``; that module uses only the standard library and can be copied alone.
"""

import sys

from kelpie.examples.series_sum import main

if __name__ == "__main__":
    sys.exit(main())
