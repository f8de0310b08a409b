"""``python -m presign_client``: the ``presign`` command line."""

from presign_client.cli import run

run()
