"""Adapters: the only modules that touch AWS SDKs, the environment or the network.

They translate library errors into the project's own exceptions (``raise ... from exc``).
boto3 is imported lazily, inside the functions that need it, so a cold start that does not talk
to AWS never pays for importing it.
"""
