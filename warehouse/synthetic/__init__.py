"""Synthetic SOS Médecins data for the warehouse and its identity vault.

``manage.py generate_warehouse --size XS|S|M --seed N [--replace]`` (see ``generator``). The
same seed and size always give the same rows, texts and identities; nothing depends on the
current date or on the global random state. Modules:

- ``generator``: sizes, the person stream, chunks and transactions;
- ``people``: age pyramid, sex, residence, identities (names, birth place, NIR, person key);
- ``episodes``: the rows of a person's episodes (how an episode maps to OMOP is documented
  there); ``clinical``: reasons, diagnoses, drugs, procedures; ``texts``: free-text notes;
- ``calendar``: seasons, epidemics, nights, weekends, public holidays;
- ``reference``: associations, centres, doctors, locations; ``names``: names and places;
- ``writer``: COPY (PostgreSQL) and executemany (SQLite); ``rand``: version-stable draws.
"""
