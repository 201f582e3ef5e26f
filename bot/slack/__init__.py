"""The Slack bot (`vpnbot serve`).

* app.py: the Bolt app; its listeners only acknowledge and hand a job (jobs.py) to a submitter;
* front.py + httpd.py: the acknowledging process: /slack/events and /healthz on an asyncio server, or Socket Mode;
* worker.py: the worker pool that answers in threads (👀, "Looking…", progress, Block Kit answer, ✅);
* server.py: `serve()`, the two processes, health and SIGTERM; logs.py: logging without secrets.

Nothing is imported here, so the acknowledging process loads only what it needs.
"""
