"""Services: one module per capability. They own the transaction."""
