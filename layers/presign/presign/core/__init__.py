"""The small pure rules every feature shares, each in a module of its own.

* ``keys``: server-made upload keys, client-given keys normalized and kept inside a prefix;
* ``prefixes``: key prefix templates (``users/{sub}/``) and why two can never meet;
* ``owners``: a caller's identity as what they own knows it (digests, ``Namespace``);
* ``mediatypes``: content types against a policy's patterns; active types told apart;
* ``contentdisposition``, ``filenames``: the names a download is saved under, and their safety;
* ``expiry``: how long a URL may live; ``refreshing``: a value fetched again once it is old;
* ``cursor``: the one codec of opaque pagination cursors;
* ``partplan``: how a file is cut into multipart parts;
* ``schemas``: the contract's shared field types and error bodies.

No I/O, no clock or randomness of their own (they are passed in), no configuration: only
``presign.limits``, ``presign.errors`` and ``presign.clock`` below them.
"""
