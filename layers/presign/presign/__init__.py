"""presign: the domain package every function imports (shipped as the shared Lambda layer)."""
