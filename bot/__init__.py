"""The running helpline service."""
