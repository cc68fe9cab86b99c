"""User classes and helpers for ``loadtests/locustfile.py`` (one module per kind of user)."""
