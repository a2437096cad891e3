"""Demo model organisms Loupe builds itself, offline and deterministically from a seed."""
