"""``python -m fusionx_lite ...``: see :mod:`fusionx_lite.cli`."""

from fusionx_lite.cli import main

if __name__ == "__main__":
    main()
