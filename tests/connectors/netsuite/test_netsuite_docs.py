"""docs/connectors/netsuite.md keeps up with the spec: every action, input, stream and config key."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "connectors" / "netsuite.md").read_text()
SPEC = yaml.safe_load((ROOT / "connectors" / "netsuite" / "netsuite.yaml").read_text())


def test_every_action_and_input_is_documented() -> None:
    missing = []
    for name, operation in SPEC["operations"].items():
        if f"`{name}`" not in DOC:
            missing.append(name)
        for field in operation.get("input", {}).get("properties", {}):
            if f"`{field}`" not in DOC:
                missing.append(f"{name}.{field}")
    assert missing == []


def test_every_stream_and_config_key_is_documented() -> None:
    missing = [f"stream {s}" for s in SPEC["streams"] if f"`{s}`" not in DOC]
    missing += [f"config {k}" for k in SPEC["config"]["properties"] if f"`{k}`" not in DOC]
    assert missing == []
