"""The doctor: every target of a configuration checked end to end, as users' URLs would use it.

* ``run``: ``Doctor``, the checks of every target under one time budget, and their JSON form;
* ``checks``: ``TargetDoctor``, one target's checks in order, split by what they check
  (``access``, ``objects``, ``bucket``; ``probe`` is what they share);
* ``ports``: plain HTTP and the bucket-level calls, as the checks need them;
* ``cors``, ``skew``: the rules the CORS and clock checks apply; ``report``: findings and lines;
* ``budget``: the run's time budget; ``schemas``: the ``{"doctor": true}`` invocation;
* ``cli``: ``python -m presign.doctor``, which builds the ports through ``presign.bootstrap``.

``docs/doctor.md`` says what each check means and how to fix what it finds.
"""
