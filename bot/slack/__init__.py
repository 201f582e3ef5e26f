"""The Slack bot (`vpnbot serve`).

* app.py: the Bolt app; its listeners only acknowledge and hand a job (jobs.py) to a submitter;
* front.py + httpd.py: the acknowledging process: /slack/events and /healthz on an asyncio server, or Socket Mode;
* pool.py: the worker pool that runs each job; core.py: what every route works with (client, log sources, state
  store, options, clock, channel policy from policy.py, audit); conversation.py: where one question's replies go
  (👀, "Looking…", progress, Block Kit answer, files, ✅);
* the routes: questions.py (a question, answered in its thread), buttons.py (the buttons under an answer),
  evidence.py (evidence bundles), subscriptions.py and summaries.py (daily summaries);
* server.py: `serve()`, the two processes wired, health and SIGTERM; logs.py: logging without secrets.

Nothing is imported here, so the acknowledging process loads only what it needs.
"""
