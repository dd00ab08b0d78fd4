"""``python -m linkplane``: the same CLI as the ``linkplane`` command."""

from linkplane.cli import main

if __name__ == "__main__":
    main()
