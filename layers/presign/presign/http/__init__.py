"""The HTTP plumbing every function shares, and the only code that knows about HTTP.

* ``api``: ``Api``, where a route is declared once (method, path, scope, rate-limit action,
  OpenAPI responses), and ``lambda_handler``, the decorator stack every function wears;
* ``gate``: what every event must be before anything reads it (API Gateway v2, a checked body);
* ``problems``: the one map from the project's exceptions to status, code and headers;
* ``openapi``: how routes describe their responses in the OpenAPI document.

Domain code never imports this package; the function modules and the composition root do.
"""
