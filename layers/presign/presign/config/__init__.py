"""The service configuration: one JSON document, validated once at cold start.

* ``settings``: the document's root, ``Settings``, and ``parse_settings``;
* ``target``: one bucket, with its upload, download and share policies and its CDN;
* ``secrets``: where credentials and secrets come from (names only, never values);
* ``providers``: what each S3-compatible provider can do, and the defaults it fills in;
* ``uploads``, ``shares``, ``ratelimit``, ``auth``, ``cleanup``: each feature's section.

Plain pydantic models over ``presign.core`` and ``presign.limits``: where the document comes from
(an environment variable, SSM) is an adapter's business (``presign.adapters.environment``), and
no feature is imported here, so every feature can import its settings from here.
"""
