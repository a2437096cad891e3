"""Microscope: feature visualization (lucid's method), dataset examples and statistics, unit links.

Everything a unit page shows, computed from the model tier; no capability imports this package."""
