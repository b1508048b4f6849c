import sys

from satellite.cli.main import main

sys.exit(main())
