"""Per-URL cost of a CloudFront signed URL: ours (presign.signing.cloudfront) vs botocore's
``CloudFrontSigner``, both signing with the same RSA-2048 key through ``cryptography``; and what a
CDN link costs next to our SigV4 GET of the same key.

The RSA signature dominates (hundreds of µs); the string building around it is what can differ,
so the ratio to botocore says whether ours adds anything. A 1000-key POST /downloads through a CDN
pays ``cdn.ours_us`` per key: that figure is the one to plan a batch size with.

Run as `python benchmarks/bench_cdn.py`, or import run() from a bench runner.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from botocore.signers import CloudFrontSigner as BotocoreSigner
from cryptography.hazmat.primitives.asymmetric import rsa

_LAYER = Path(__file__).resolve().parents[1] / "layers" / "presign"
if str(_LAYER) not in sys.path:
    sys.path.insert(0, str(_LAYER))

from presign.adapters.cdn_keys import rsa_sha1_signer  # noqa: E402
from presign.signing.cloudfront import CloudFrontSigner  # noqa: E402
from presign.signing.sigv4 import S3Presigner, SigningCredentials  # noqa: E402

DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
KEY = "users/alice/2026/12/01/01JD0000000000000000000000/Quarterly report (final) é.pdf"
QUERY = {
    "response-cache-control": "private, no-store",
    "response-content-encoding": "identity",
    "response-content-disposition": 'attachment; filename="Quarterly report (final) e.pdf"; '
    "filename*=UTF-8''Quarterly%20report%20%28final%29%20%C3%A9.pdf",
}
EXPIRES_IN = 300
REPEATS = 5
ITERATIONS = {"botocore": 150, "ours": 150, "sigv4": 5_000}  # ~50 ms per batch each


def _time_us(fn: Callable[[], object], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations * 1e6


def _signers() -> dict[str, Callable[[], str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sign = rsa_sha1_signer(key)
    ours = CloudFrontSigner(domain=DOMAIN, key_pair_id=KEY_PAIR_ID, sign=sign)
    oracle = BotocoreSigner(KEY_PAIR_ID, sign)
    sigv4 = S3Presigner(
        credentials=SigningCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region="eu-west-1",
        endpoint_url=None,
        addressing_style="virtual",
    )

    def botocore_url() -> str:
        # What a caller of botocore has to do as well: quote the key and the overrides.
        now = int(time.time())
        base = f"https://{DOMAIN}/{quote(KEY.encode(), safe='/~')}?" + "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in QUERY.items()
        )
        return str(
            oracle.generate_presigned_url(base, date_less_than=datetime.fromtimestamp(now + EXPIRES_IN, UTC))
        )

    def ours_url() -> str:
        return ours.presign_get(KEY, expires=int(time.time()) + EXPIRES_IN, query=QUERY)

    def sigv4_url() -> str:
        return sigv4.presign(
            "GET", "downloads-bucket", KEY, now=datetime.now(UTC), expires_in=EXPIRES_IN, query=QUERY
        )

    # A benchmark of signers producing different URLs would be meaningless (RSA PKCS #1 v1.5 is
    # deterministic, so equal inputs in the same second give equal URLs).
    for _ in range(3):
        a, b = botocore_url(), ours_url()
        if a == b:
            break
    else:
        raise AssertionError(f"signers disagree:\n{a}\n{b}")
    return {"botocore": botocore_url, "ours": ours_url, "sigv4": sigv4_url}


def run() -> dict[str, float]:
    """µs per URL (median of REPEATS) per signer, ours / botocore, and a CDN URL / a SigV4 URL.

    Signers take turns within each repeat, so load from other processes hits all of them alike;
    the ratios are medians of per-repeat ratios.
    """
    signers = _signers()
    for fn in signers.values():
        fn()
    runs = [{name: _time_us(fn, ITERATIONS[name]) for name, fn in signers.items()} for _ in range(REPEATS)]
    return {
        "cdn.botocore_us": statistics.median(r["botocore"] for r in runs),
        "cdn.ours_us": statistics.median(r["ours"] for r in runs),
        "cdn.sigv4_us": statistics.median(r["sigv4"] for r in runs),
        "cdn.ours_vs_botocore_ratio": statistics.median(r["ours"] / r["botocore"] for r in runs),
        "cdn.cdn_vs_sigv4_ratio": statistics.median(r["ours"] / r["sigv4"] for r in runs),
    }


def main() -> None:
    results = run()
    print(f"CloudFront signed URL, canned policy, RSA-2048 (median of {REPEATS}):")
    print(f"  botocore CloudFrontSigner: {results['cdn.botocore_us']:8.1f} µs/URL (baseline)")
    print(
        f"  ours (CloudFrontSigner):   {results['cdn.ours_us']:8.1f} µs/URL = "
        f"{results['cdn.ours_vs_botocore_ratio']:.3f} x botocore"
    )
    print(
        f"  ours SigV4 GET, same key:  {results['cdn.sigv4_us']:8.1f} µs/URL "
        f"(a CDN URL costs {results['cdn.cdn_vs_sigv4_ratio']:.0f} x as much)"
    )


if __name__ == "__main__":
    main()
