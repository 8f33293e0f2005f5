"""Subcommands of ``audit``, one module each (see :mod:`audit.cli` for the protocol)."""
