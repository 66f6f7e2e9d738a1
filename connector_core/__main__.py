"""``python -m connector_core`` runs the command line."""

from connector_core.cli import main

main()
