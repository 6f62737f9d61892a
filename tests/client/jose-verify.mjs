// A partner verifying Authgate's access tokens the standard way with
// `jose` (panva/jose, an implementation nobody on this team wrote): from
// /.well-known/openid-configuration to jwks_uri (createRemoteJWKSet), the
// key picked by `kid`, the algorithm the key declares, issuer and audience
// checked. Run by scripts/check-client against a real server, once per
// signing algorithm: node jose-verify.mjs BASE_URL ACCESS_TOKEN ALG
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

const [base, token, alg] = process.argv.slice(2);
const fail = (msg) => { console.error(`jose-verify (${alg}): ${msg}`); process.exit(1); };

const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
if (discovery.issuer !== base) fail(`issuer ${discovery.issuer} is not ${base}`);
if (!discovery.id_token_signing_alg_values_supported.includes(alg)) fail(`${alg} is not advertised`);
if (decodeProtectedHeader(token).alg !== alg) fail(`the token is not signed with ${alg}`);

const keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
const { payload } = await jwtVerify(token, keys, {
  issuer: discovery.issuer,
  audience: "authgate",
  algorithms: discovery.id_token_signing_alg_values_supported,
});
if (!payload.sub) fail("no subject");

// A broken signature must not verify.
const [head, body, sig] = token.split(".");
const forged = `${head}.${body}.${sig.slice(0, -4)}${sig.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
try {
  await jwtVerify(forged, keys, { issuer: discovery.issuer, audience: "authgate" });
  fail("a forged signature verified");
} catch (e) {
  if (e.code !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") fail(`unexpected error ${e.code}`);
}
console.log(`jose ${alg}: verified through discovery (kid ${decodeProtectedHeader(token).kid}), forged signature refused`);
