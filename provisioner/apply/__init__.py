"""Executing a plan against the API exactly once per campaign (`executor`), with a progress
line for long runs (`progress`)."""
