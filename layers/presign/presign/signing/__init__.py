"""Request signing: a fast, dependency-free SigV4 presigner for S3-compatible endpoints."""

from presign.signing.sigv4 import PresignedPost, S3Presigner, SigningCredentials

__all__ = ["PresignedPost", "S3Presigner", "SigningCredentials"]
