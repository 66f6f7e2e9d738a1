"""``python -m connectors.crm.emulator``: run the HubSpot emulator in the foreground."""

from .hubspot.cli import main

raise SystemExit(main())
