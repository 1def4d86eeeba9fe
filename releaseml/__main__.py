import sys

from releaseml.job.entrypoints import main

sys.exit(main())
