"""rigcheck: plan, diagnose and benchmark deep-learning workstations."""

__version__ = "0.1.0"
