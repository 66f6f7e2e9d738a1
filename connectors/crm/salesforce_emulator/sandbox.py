"""Starting the emulator for ``connector-core sandbox`` and ``demo``, with a config the ``salesforce`` spec reads."""

from __future__ import annotations

from typing import Any

from .emulator import SalesforceEmulator
from .settings import SalesforceSettings

DEFAULT_PORT = 8600


def start_emulator(port: int | None) -> Any:
    """The Salesforce emulator on 127.0.0.1 (port 8600 unless told otherwise), configured for the JWT bearer flow.

    The config carries the generated private key inline: it signs assertions for this throwaway
    emulator only, whose test data it guards.
    """
    from connector_core.engine.emulators import RunningEmulator

    emulator = SalesforceEmulator(SalesforceSettings(accounts=300, contacts=600, opportunities=200))
    url = emulator.start(port=DEFAULT_PORT if port is None else port)
    creds = emulator.credentials
    config = {"auth_method": "jwt_bearer", "login_url": url, "consumer_key": creds["consumer_key"],
              "username": creds["username"], "private_key": creds["private_key_pem"],
              "api_version": creds["api_version"]}
    details = {"consumer_secret": creds["consumer_secret"], "control": f"{url}/_emulator/"}
    return RunningEmulator("salesforce", "salesforce", url, config, emulator.stop, details)
