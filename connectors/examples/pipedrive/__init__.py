"""Pipedrive: the spec (pipedrive.yaml) and the one component it cannot say declaratively (plugin.py)."""
