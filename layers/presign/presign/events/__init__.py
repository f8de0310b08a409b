"""Events out: every committed state change of an upload or a share, as exactly one event.

The source is the tables' DynamoDB streams (new and old images), never the request path: a
request commits its write and answers; the stream carries the committed change to a publisher
function, which turns it into events (``changes``), gives each a stable id and a per-item
sequence number (``model``), and hands them to a sink, EventBridge first (``publisher``,
``presign.adapters.eventbridge``). A change that did not commit is not in the stream, so it
cannot become an event; a change that did is retried until the sink took it, so it cannot be
lost; a retried batch computes the same ids, so a receiver drops the duplicates.

Pure: the standard library, ``presign.errors`` and ``presign.clock`` only.
"""
