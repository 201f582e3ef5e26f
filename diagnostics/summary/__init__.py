"""The daily tunnel summary: how every tunnel did over one local day (docs/summaries.md)."""
