"""Conversation flows: what the bot says and does at each step of an enquiry."""
