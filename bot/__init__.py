"""helpline: the assistant of a UK SEND information, advice and support service."""
