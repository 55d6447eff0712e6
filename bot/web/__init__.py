"""The ASGI app: webhooks, the web chat and the staff dashboard behind the same guards."""
