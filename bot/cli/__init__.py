"""`helpline`: the operator's commands, one module per command group, importing downward only."""
