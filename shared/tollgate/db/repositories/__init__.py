"""Repositories: one per aggregate. Every tenant-owned query takes the workspace id."""
