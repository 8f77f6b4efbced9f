import sys

from courtroom_api.cli import main

sys.exit(main())
