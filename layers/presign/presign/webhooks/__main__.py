"""``python -m presign.webhooks``: the operator's command (``presign.webhooks.cli``)."""

import sys

from presign.webhooks.cli import main

sys.exit(main())
