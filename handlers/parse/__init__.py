"""Reading what people type: `question` turns a sentence into a `Question` (intent, tunnel, time window), with the
intent from `intent` and the time words read by `lexer` (tokens, using the word tables of `lexicon` and the clock,
date and zone forms of `formats`) and `compose` (the window). Nothing here reads a log."""
