"""The one outbox worker: claim a row, send it through the parents' or the staff's sender,
mark it."""
