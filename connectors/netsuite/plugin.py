"""NetSuite connector plugin: hook implementations only."""
