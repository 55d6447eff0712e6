"""Conversation flows: data plus one pure engine, with no I/O."""
