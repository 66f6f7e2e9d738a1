"""Pieces shared by CRM emulators: clock, fault injection, stats, rate windows, HTTP server."""
