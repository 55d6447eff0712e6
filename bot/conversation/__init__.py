"""The message path: the contract channels speak (Inbound, Processed), the router, flood guard,
intercepts (STOP/HELP/status), nudges and idle conversations.
"""
