import sys

from shoplens_export.cli import main

sys.exit(main())
