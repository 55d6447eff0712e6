"""Test doubles that speak the real Telegram Bot API and Twilio REST protocols."""
