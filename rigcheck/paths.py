"""Where rigcheck's bundled data and the user's own files live.

The bundled ``catalog/`` and ``recipes/`` folders sit at the top of a checkout and are copied into
the wheel as ``rigcheck/_data/``; both layouts are found here, the installed one first.
User files follow the XDG base-directory spec so a read-only home can be redirected with
``XDG_DATA_HOME`` or ``RIGCHECK_DATA_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"rigcheck's bundled '{name}' folder is missing (looked in {installed} and {checkout}); "
        "reinstall rigcheck"
    )


def catalog_dir() -> Path:
    """The bundled parts catalog."""
    return _bundled("catalog")


def recipes_dir() -> Path:
    """The bundled target workloads."""
    return _bundled("recipes")


def user_data_dir() -> Path:
    """Where bench history and saved runs go (not created here)."""
    override = os.environ.get("RIGCHECK_DATA_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "rigcheck"


def models_dir() -> Path:
    """The bundled LLM config.json files (rigcheck.perfmodel.llm_configs)."""
    return _bundled("models")
