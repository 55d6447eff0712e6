"""The service's own rules: callbacks, enquiries, contacts, casework, staff, the rota, audit,
alerts, the SLA, digest, retention and subject rights. Raises HelplineError, never CLI errors.
"""
