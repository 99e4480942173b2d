import sys

from hloenv.cli import main

sys.exit(main())
