"""``python -m gradlab``: the ``gradlab`` command (see :mod:`gradlab.cli`)."""

import sys

from gradlab.cli import main

sys.exit(main())
