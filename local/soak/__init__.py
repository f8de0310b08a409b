"""``make soak``: the whole service on ``make dev`` under sustained mixed load while its dependencies
fail, then checks, from the storage and the tables themselves, that nothing was lost, duplicated or
left behind (issue 26).

    python -m local.soak [--profile short|default] [--seconds N] [--users N] [--seed N]

``stack`` starts ``make dev`` (with its storage proxy) in a child process through ``devserver``,
which only adds a clock the soak can skew; ``users`` are the simulated clients (SPA-like and
mobile-like, each with a token of its own, real bytes); ``faults`` opens the fault windows and logs
each one's start and end; ``invariants`` are the pass/fail, each a function returning its evidence;
``figures`` prints what the run cost. Latencies are measured on ``make dev``'s emulator, which runs
one invocation at a time (``local/gateway/server.py``): they measure its queue, and every table says
so.
"""
