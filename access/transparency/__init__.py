"""The public transparency portal (TRA-01 to TRA-13, Fields A).

Public pages read only immutable snapshots (``Publication.snapshot``) built by
``snapshot.build_snapshot`` from an explicit list of public fields: nothing else of a project
can reach them.
"""
