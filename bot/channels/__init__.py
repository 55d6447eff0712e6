"""Channel adapters: each translates one wire format to and from Inbound / Reply."""
