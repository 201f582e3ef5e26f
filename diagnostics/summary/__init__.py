"""The daily tunnel summary: how every tunnel did over one local day (issue 6)."""
