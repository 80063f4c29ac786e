"""`python -m icp_migrate.cli`, as the tests run it."""

from . import main

if __name__ == "__main__":
    main()
