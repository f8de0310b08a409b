import os
import sys

from presign.doctor.cli import main

sys.exit(main(environ=os.environ))
