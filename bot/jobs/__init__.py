"""Scheduled work: leadership (one scheduler leads) and the SLA, digest, nudge and retention
jobs."""
