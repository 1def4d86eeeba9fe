import sys

from releaseml.container import main

sys.exit(main())
