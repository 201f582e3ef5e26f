"""Showing an `Answer`: `text` (terminal, Slack fallback), `json` (schema 1, docs/asking.md) and `blocks` (Slack
Block Kit, built on the primitives and limits of `blockkit`); the daily summary's `summary` (text, JSON),
`summary_blocks` (Slack) and `timeline_png` (its picture, drawn with `timeline_draw`)."""
