"""One module per user-facing command: parse the request, call diagnostics, render the answer."""
