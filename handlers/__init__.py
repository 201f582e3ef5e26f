"""The commands people give the bot: a parsed request in, a result out. No Slack SDK and no cloud SDK here (the
Slack side is `bot/`, the logs and their reading are `diagnostics/`).

One module per command, each with what it does beyond calling `diagnostics`:

- `ask`: the sentence-in entry point (parse, then hand the question to its command) and the why-drop / drops
  investigation itself;
- `status`, `summary`, `evidence`, `p2s`, `tunnels`, `help`: the other questions `ask` understands (evidence also
  stores answers and makes the bundle of a stored one, reaching the state store through a small protocol);
- `subscribe`: the `/vpn subscribe|unsubscribe|subscriptions` commands, parsed;
- `answer`: `Answer`, what every question command returns.

Two packages serve them: `parse` reads a sentence (`question`: intent, tunnel and time window together; `intent`;
the time words in `lexicon`, `lexer`, `formats` and `compose`), and `render` shows an answer (`text`, `json`,
`blocks` for Slack over the Block Kit primitives of `blockkit`; the daily summary's `summary`, `summary_blocks` and
its `timeline_png` picture drawn with `timeline_draw`).
"""
