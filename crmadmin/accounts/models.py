"""Accounts has no models of its own: users and groups are Django's.

The module exists so that Django sends this app post_migrate (see apps.py).
"""
