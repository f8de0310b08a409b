"""Per-token cost of authentication, warm cache: our Authenticator vs plain ``jwt.decode``.

The baseline is ``jwt.decode`` with the same key and the same checks (algorithm pinned, exp / iss /
aud / sub required, leeway), measured in the same run, so ``ratio`` is our wrapper's overhead:
bearer parsing, the pre-crypto header checks, the JWKS lookup, our own time checks, the Principal.

Run as `python benchmarks/bench_auth.py`, or import run() from a bench runner.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

_LAYER = Path(__file__).resolve().parents[1] / "layers" / "presign"
for _path in (_LAYER, _LAYER.parents[1]):  # the layer, and the repo root for `benchmarks`
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchmarks.timing import paired_median_us  # noqa: E402
from presign.auth import Authenticator, build_authenticator  # noqa: E402
from presign.config.auth import AuthSettings  # noqa: E402
from presign.config.secrets import SecretRef  # noqa: E402

ISSUER = "https://idp.example.test/"
AUDIENCE = "presign-api"
SECRET = "bench-secret-0123456789abcdef0123456789"
OLD_SECRET = "bench-secret-previous-0123456789abcdef"
LEEWAY = 30
REPEATS = 9
ITERATIONS = 1_000


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 3600, "scope": "a b"}


def _baseline(token: str, key: Any, alg: str) -> Callable[[], object]:
    def decode() -> object:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )

    return decode


def _ours(auth: Authenticator, token: str) -> Callable[[], object]:
    header = f"Bearer {token}"
    return lambda: auth.authenticate(authorization=header)


def _hs256(*secrets: str) -> Authenticator:
    settings = AuthSettings.model_validate(
        {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "leeway_seconds": LEEWAY,
            "secrets": [{"source": "env", "name": f"S{i}"} for i in range(len(secrets))],
        }
    )
    values = {f"S{i}": s for i, s in enumerate(secrets)}

    def resolve(ref: SecretRef) -> str:
        return values[getattr(ref, "name", "")]

    return build_authenticator(settings, resolve)


def _oidc(document: Mapping[str, Any], algorithms: list[str]) -> Authenticator:
    settings = AuthSettings.model_validate(
        {
            "mode": "oidc",
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "leeway_seconds": LEEWAY,
            "jwks_url": "https://idp.example.test/jwks",
            "algorithms": algorithms,
        }
    )

    def no_secret(ref: SecretRef) -> str:
        raise AssertionError("no secrets in oidc mode")

    return build_authenticator(settings, no_secret, jwks_fetcher=lambda: document)


def _scenarios() -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_private = ec.generate_private_key(ec.SECP256R1())
    rsa_jwk = {**RSAAlgorithm.to_jwk(rsa_private.public_key(), as_dict=True), "kid": "rsa", "use": "sig"}
    ec_jwk = {**ECAlgorithm.to_jwk(ec_private.public_key(), as_dict=True), "kid": "ec", "use": "sig"}
    document = {"keys": [rsa_jwk, ec_jwk]}

    hs_token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    old_token = jwt.encode(_claims(), OLD_SECRET, algorithm="HS256")
    rs_token = jwt.encode(_claims(), rsa_private, algorithm="RS256", headers={"kid": "rsa"})
    es_token = jwt.encode(_claims(), ec_private, algorithm="ES256", headers={"kid": "ec"})

    hs256, rotating = _hs256(SECRET), _hs256(SECRET, OLD_SECRET)
    oidc = _oidc(document, ["RS256", "ES256"])
    oidc.warm_up()
    return [
        ("HS256", _ours(hs256, hs_token), _baseline(hs_token, SECRET.encode(), "HS256")),
        # Rotation: a token signed with the second listed secret costs two HMACs.
        (
            "HS256 older secret of 2",
            _ours(rotating, old_token),
            _baseline(old_token, OLD_SECRET.encode(), "HS256"),
        ),
        ("RS256", _ours(oidc, rs_token), _baseline(rs_token, jwt.PyJWK(rsa_jwk, "RS256"), "RS256")),
        ("ES256", _ours(oidc, es_token), _baseline(es_token, jwt.PyJWK(ec_jwk, "ES256"), "ES256")),
    ]


def run() -> list[dict[str, Any]]:
    """One row per algorithm: µs per token, ours and the plain-PyJWT baseline, and their ratio."""
    rows = []
    for name, ours, baseline in _scenarios():
        ours()  # both must accept the token, or the timing means nothing
        baseline()
        ours_us, baseline_us = paired_median_us(ours, baseline, iterations=ITERATIONS, repeats=REPEATS)
        rows.append(
            {
                "name": name,
                "ours_us": round(ours_us, 1),
                "baseline_us": round(baseline_us, 1),
                "ratio": round(ours_us / baseline_us, 2),
            }
        )
    return rows


def main() -> None:
    print("verification cost per token, warm cache (baseline: plain jwt.decode, same key and checks)")
    for row in run():
        print(
            f"  {row['name'] + ':':25} ours {row['ours_us']:7.1f} µs   "
            f"jwt.decode {row['baseline_us']:7.1f} µs   ratio {row['ratio']:.2f}x"
        )


if __name__ == "__main__":
    main()
