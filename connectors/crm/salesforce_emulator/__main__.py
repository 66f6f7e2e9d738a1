"""``python -m connectors.crm.salesforce_emulator``: run the Salesforce emulator in the foreground."""

from .cli import main

raise SystemExit(main())
