"""Shared fixtures: a small unit tree and one account per role, built through the services."""
