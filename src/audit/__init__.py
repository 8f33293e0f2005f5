"""audit: reproducible audits and inspection reports for civil-affairs inspectors."""

__version__ = "0.1.0"
