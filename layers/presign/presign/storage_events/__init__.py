"""Storage events: object-created notifications from every source read into one shape
(``notifications``), and each one run through the one completion path (``service``)."""
