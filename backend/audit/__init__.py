"""Audit log: who read or changed which tourist's data, when and from where (PDPA).

Below every domain (each one records entries with :func:`backend.audit.service.record`), so it
imports none; the admin's reading of the log is an HTTP API that needs staff authentication, so
it lives with it: ``backend.auth.views.audit_blp`` (``GET /api/v1/audit``).
"""
