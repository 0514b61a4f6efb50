"""Luzhi: secrecy-work responsibility system for municipal secrecy bureaus."""
