"""The sync floor: connection files, mappings, the runner and its state store."""
