"""`python -m provisioner` is the same CLI as the `provisioner` console script."""

from provisioner.cli import run

run()
