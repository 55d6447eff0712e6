"""Twilio's wire formats: SMS and WhatsApp webhooks, the voice line, message segments and the REST
client.
"""
