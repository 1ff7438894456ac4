"""Tollgate: a multi-provider AI gateway with cost control."""

__version__ = "0.1.0"
