"""docs/porting-from-airbyte.md states each port's size and stream count: they must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GUIDE = (ROOT / "docs" / "porting-from-airbyte.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["strava", "pipedrive", "mailchimp", "sendgrid"])
def test_the_guide_gives_each_port_s_line_and_stream_counts(name: str) -> None:
    spec_path = ROOT / "connectors" / "examples" / name / f"{name}.yaml"
    lines = len(spec_path.read_text(encoding="utf-8").splitlines())
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    made = [
        stream for template in spec.get("stream_templates", {}).values() for stream in template["streams"]
    ]
    visible = [n for n, s in spec.get("streams", {}).items() if not s.get("hidden")] + made
    row = next(
        line
        for line in GUIDE.splitlines()
        if line.startswith(f"| [{name.capitalize() if name != 'sendgrid' else 'SendGrid'}]")
    )
    streams, ours = re.match(r"\| \[[^]]+\]\([^)]+\) \| (\d+)[^|]* \| (\d+) lines \|", row).groups()  # type: ignore[union-attr]
    assert (int(streams), int(ours)) == (len(visible), lines)
