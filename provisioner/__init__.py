"""Declarative, git-ops provisioner for Kore.ai contact-center SMS campaigns."""

__version__ = "0.1.0"
