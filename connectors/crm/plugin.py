"""CRM connectors plugin: hook implementations only."""
