"""Black-box check that a partner finds Authgate's keys the standard way.

PyJWT's ``PyJWKClient`` (a JOSE implementation nobody on this team wrote)
starts from ``/.well-known/openid-configuration``, follows ``jwks_uri``,
picks the key by ``kid`` and verifies an access token with the algorithm
the key declares, for both signing algorithms Authgate offers.
"""

from __future__ import annotations

import socket

import jwt
import pytest
import requests

from authgate_server import AuthgateServer

TIMEOUT = 10


def free_port() -> int:
    """A port to listen on, so that the default issuer (derived from the
    listen address) is a URL this test can reach."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_access_tokens_verify_through_oidc_discovery(alg: str) -> None:
    port = free_port()
    env = {"AUTHGATE_LISTEN": f"127.0.0.1:{port}", "AUTHGATE_SIGNING_ALG": alg}
    with AuthgateServer(extra_env=env) as server:
        discovery = requests.get(
            server.url("/.well-known/openid-configuration"), timeout=TIMEOUT
        ).json()
        assert discovery["issuer"] == f"http://127.0.0.1:{port}"
        assert discovery["jwks_uri"] == f"http://127.0.0.1:{port}/.well-known/jwks.json"
        assert alg in discovery["id_token_signing_alg_values_supported"]

        token = server.admin_token()
        assert jwt.get_unverified_header(token)["alg"] == alg
        signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=discovery["id_token_signing_alg_values_supported"],
            audience="authgate",
            issuer=discovery["issuer"],
        )
        assert claims["iss"] == discovery["issuer"]
        assert claims["sub"]

        # A token whose signature is broken does not verify.
        head, body, sig = token.split(".")
        forged = f"{head}.{body}.{sig[:-4]}AAAA"
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(
                forged,
                signing_key,
                algorithms=[alg],
                audience="authgate",
                issuer=discovery["issuer"],
            )
