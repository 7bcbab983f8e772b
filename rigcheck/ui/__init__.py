"""The user-interface layer: the only package that imports typer and rich.

``app.py`` builds the command tree; each ``*_cmd.py`` module defines one command group (its typer
options and its rich rendering) and calls into the pure layers underneath. Domain modules are
imported inside the command functions so ``rigcheck --help`` stays fast (no torch, pandas, pynvml).
"""
