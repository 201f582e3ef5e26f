"""Traffic over a tunnel, from the gateways' platform metrics (not the logs): bytes and packets each way, drops,
BGP routes. `model.py` is the shape every metrics source returns and every traffic rule reads."""
