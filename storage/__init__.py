"""The store: SQLAlchemy models, the inbox/outbox and the queries the service runs."""
