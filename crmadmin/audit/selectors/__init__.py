"""Readers of the audit log, one module per concern:

- ``outcome``: the outcome the screens show (the "outcome unknown" rule), in one place;
- ``listing``: the list's filters and keyset pages, one entry, a record's history;
- ``comparison``: an update's fields beside the register's values before it;
- ``export_rows``: the rows of the CSV export, from one (field, header) table;
- ``activity``: the activity dashboard's figures.
"""
