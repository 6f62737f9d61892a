//! Access tokens: JWTs in the shape of RFC 9068, signed with EdDSA
//! (Ed25519, the default) or ES256 (ECDSA P-256, for gateways and
//! libraries without EdDSA).
//!
//! Verification pins the algorithm to the one of the key named by `kid`
//! and the `typ` header to `at+jwt`, and checks expiry against a time
//! passed in.

use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{jwk::Jwk, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    ids::{OrganizationId, SessionId, UserId},
    UnixTime,
};

/// Longest lifetime an access token may have.
pub const MAX_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The fixed DER prefix of a PKCS#8 v1 Ed25519 private key; the 32-byte
/// seed follows it. v1 is what JOSE libraries and OpenSSL 3.0 accept.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const PEM_LABEL: &str = "PRIVATE KEY";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed or its signature is invalid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the key is not a PKCS#8 Ed25519 or P-256 private key in PEM")]
    BadKey,
    /// Signed with a key this issuer does not (yet) know.
    #[error("the token names an unknown signing key")]
    UnknownKey,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The JWS algorithms Authgate signs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// Ed25519: small and fast; the default.
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256: what AWS API Gateway and .NET accept.
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::EdDSA, SigningAlg::ES256];

    /// The JWA name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::ES256 => "ES256",
        }
    }

    fn jwa(self) -> Algorithm {
        match self {
            SigningAlg::EdDSA => Algorithm::EdDSA,
            SigningAlg::ES256 => Algorithm::ES256,
        }
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SigningAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("expected EdDSA or ES256, got {s:?}"))
    }
}

/// One signing key (Ed25519 or P-256) and what is published of it.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    /// The PKCS#8 PEM it was read from or generated as.
    pem: zeroize::Zeroizing<String>,
    /// The public JWK members of its kind (`kty`, `crv`, `x`[, `y`]).
    public: serde_json::Map<String, serde_json::Value>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Ed25519's signer, made once: `jsonwebtoken::encode` parses the
    /// PKCS#8 key and derives the public key on every call, which measured
    /// 216 k instructions per token (a sixth of a whole code step).
    ed25519: Option<ed25519_dalek::SigningKey>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A compact JWS (RFC 7515) signed with a ready Ed25519 key: the same bytes
/// `jsonwebtoken::encode` makes (Ed25519 is deterministic; a test checks),
/// without rebuilding the signer for every token.
fn sign_ed25519(
    signer: &ed25519_dalek::SigningKey,
    header: &Header,
    claims: &AccessClaims,
) -> Result<String, TokenError> {
    use ed25519_dalek::Signer as _;
    let failed = |e: serde_json::Error| TokenError::Signing(e.to_string());
    let mut token = B64URL.encode(serde_json::to_vec(header).map_err(failed)?);
    token.push('.');
    token.push_str(&B64URL.encode(serde_json::to_vec(claims).map_err(failed)?));
    let signature = signer.sign(token.as_bytes());
    token.push('.');
    token.push_str(&B64URL.encode(signature.to_bytes()));
    Ok(token)
}

/// The key id is derived from the public key, so every instance that
/// loads the same key names it the same way.
fn kid_of(public: &[u8]) -> String {
    B64URL.encode(&Sha256::digest(public)[..12])
}

fn pem_of(der: &[u8]) -> String {
    format!(
        "-----BEGIN {PEM_LABEL}-----\n{}\n-----END {PEM_LABEL}-----\n",
        B64.encode(der)
    )
}

impl SigningKey {
    pub fn generate(alg: SigningAlg, rng: &mut impl CryptoRngCore) -> Self {
        match alg {
            SigningAlg::EdDSA => {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                rng.fill_bytes(seed.as_mut_slice());
                Self::from_seed(*seed)
            }
            SigningAlg::ES256 => loop {
                // A random 32-byte string is a valid P-256 scalar unless it is
                // zero or above the group order (odds ~2^-32); draw again then.
                let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
                rng.fill_bytes(bytes.as_mut_slice());
                if let Some(key) = Self::p256_from_scalar(&bytes) {
                    break key;
                }
            },
        }
    }

    fn p256_from_scalar(bytes: &[u8; 32]) -> Option<Self> {
        use p256::pkcs8::EncodePrivateKey as _;
        let secret = p256::SecretKey::from_slice(bytes).ok()?;
        let der = secret.to_pkcs8_der().ok()?;
        Self::from_ec_der(der.as_bytes()).ok()
    }

    /// An Ed25519 key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let public_x = B64URL.encode(public);
        let mut der = zeroize::Zeroizing::new(PKCS8_V1_PREFIX.to_vec());
        der.extend_from_slice(&seed);
        let mut jwk = serde_json::Map::new();
        jwk.insert("kty".into(), "OKP".into());
        jwk.insert("crv".into(), "Ed25519".into());
        jwk.insert("x".into(), public_x.clone().into());
        Self {
            alg: SigningAlg::EdDSA,
            kid: kid_of(&public),
            pem: zeroize::Zeroizing::new(pem_of(&der)),
            public: jwk,
            encoding: EncodingKey::from_ed_der(&der),
            // `public_x` is base64url we just wrote: decoding it cannot fail.
            #[allow(clippy::expect_used)]
            decoding: DecodingKey::from_ed_components(&public_x).expect("valid base64url"),
            ed25519: Some(ed25519_dalek::SigningKey::from_bytes(&seed)),
        }
    }

    /// A P-256 key from its PKCS#8 DER.
    fn from_ec_der(der: &[u8]) -> Result<Self, TokenError> {
        let encoding = EncodingKey::from_ec_der(der);
        let jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|_| TokenError::BadKey)?;
        let jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
            return Err(TokenError::BadKey);
        };
        let decoding =
            DecodingKey::from_ec_components(&ec.x, &ec.y).map_err(|_| TokenError::BadKey)?;
        let mut point = B64URL.decode(&ec.x).map_err(|_| TokenError::BadKey)?;
        point.extend(B64URL.decode(&ec.y).map_err(|_| TokenError::BadKey)?);
        let mut public = serde_json::Map::new();
        public.insert("kty".into(), "EC".into());
        public.insert("crv".into(), "P-256".into());
        public.insert("x".into(), ec.x.clone().into());
        public.insert("y".into(), ec.y.clone().into());
        Ok(Self {
            alg: SigningAlg::ES256,
            kid: kid_of(&point),
            pem: zeroize::Zeroizing::new(pem_of(der)),
            public,
            encoding,
            decoding,
            ed25519: None,
        })
    }

    /// Reads a PKCS#8 PEM private key: Ed25519 (as `openssl genpkey
    /// -algorithm ed25519` writes it) or P-256 (`openssl genpkey -algorithm
    /// EC -pkeyopt ec_paramgen_curve:P-256`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, TokenError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        let begin = format!("-----BEGIN {PEM_LABEL}-----");
        if !pem.trim_start().starts_with(&begin) {
            return Err(TokenError::BadKey);
        }
        let der = zeroize::Zeroizing::new(B64.decode(body).map_err(|_| TokenError::BadKey)?);
        if der.len() == 48 && der[..16] == PKCS8_V1_PREFIX {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&der[16..]);
            return Ok(Self::from_seed(seed));
        }
        Self::from_ec_der(&der)
    }

    pub fn to_pkcs8_pem(&self) -> String {
        self.pem.as_str().to_owned()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The public JWK (RFC 8037 for Ed25519, RFC 7518 for P-256), with its
    /// `kid`, `use` and `alg`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut jwk = self.public.clone();
        jwk.insert("kid".into(), self.kid.clone().into());
        jwk.insert("use".into(), "sig".into());
        jwk.insert("alg".into(), self.alg.as_str().into());
        serde_json::Value::Object(jwk)
    }
}

/// RFC 9068 claims plus Authgate's own (`org`, `role`, `sid`, `amr`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub org: String,
    pub role: String,
    pub sid: String,
    /// RFC 8176 methods: `["pwd"]` or `["pwd", "otp"]`.
    pub amr: Vec<String>,
}

/// What identifies the subject of a token; times and ids are filled in.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    pub user_id: &'a UserId,
    pub organization_id: &'a OrganizationId,
    pub role: &'a str,
    pub session_id: &'a SessionId,
    pub client: &'a str,
    pub amr: &'a [&'a str],
}

/// Signs with the active key; verifies with the active and any retired key
/// still listed (rotation keeps old tokens valid until they expire).
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    active: SigningKey,
    retired: Vec<SigningKey>,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenIssuer {
    pub fn new(
        active: SigningKey,
        retired: Vec<SigningKey>,
        issuer: String,
        audience: String,
        ttl: Duration,
    ) -> Self {
        Self {
            active,
            retired,
            issuer,
            audience,
            ttl: ttl.min(MAX_ACCESS_TTL),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn active_kid(&self) -> &str {
        self.active.kid()
    }

    pub fn active_alg(&self) -> SigningAlg {
        self.active.alg
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The algorithms of the keys that verify, the active one first, each
    /// once.
    pub fn algorithms(&self) -> Vec<SigningAlg> {
        let mut algs = vec![self.active.alg];
        for k in &self.retired {
            if !algs.contains(&k.alg) {
                algs.push(k.alg);
            }
        }
        algs
    }

    pub fn sign(
        &self,
        subject: &Subject<'_>,
        jti: String,
        now: UnixTime,
    ) -> Result<String, TokenError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: subject.user_id.to_string(),
            aud: self.audience.clone(),
            iat: now.as_secs(),
            exp: now.plus(self.ttl).as_secs(),
            jti,
            client_id: subject.client.to_owned(),
            org: subject.organization_id.to_string(),
            role: subject.role.to_owned(),
            sid: subject.session_id.to_string(),
            amr: subject.amr.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut header = Header::new(self.active.alg.jwa());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.active.kid.clone());
        match &self.active.ed25519 {
            Some(signer) => sign_ed25519(signer, &header, &claims),
            None => jsonwebtoken::encode(&header, &claims, &self.active.encoding)
                .map_err(|e| TokenError::Signing(e.to_string())),
        }
    }

    pub fn verify(&self, token: &str, now: UnixTime) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = std::iter::once(&self.active)
            .chain(&self.retired)
            .find(|k| k.kid == kid)
            .ok_or(TokenError::UnknownKey)?;
        // The key decides the algorithm, never the token.
        if header.alg != key.alg.jwa() {
            return Err(TokenError::Invalid);
        }
        let mut validation = Validation::new(key.alg.jwa());
        validation.validate_exp = false;
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp <= now.as_secs() {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }

    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = std::iter::once(&self.active)
            .chain(&self.retired)
            .map(SigningKey::public_jwk)
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

    fn issuer(key: SigningKey) -> TokenIssuer {
        TokenIssuer::new(
            key,
            vec![],
            "https://authgate.test".into(),
            "inbox".into(),
            Duration::from_secs(600),
        )
    }

    fn subject() -> Subject<'static> {
        use std::sync::OnceLock;
        static IDS: OnceLock<(UserId, OrganizationId, SessionId)> = OnceLock::new();
        let (u, o, s) = IDS.get_or_init(|| {
            (
                UserId::from_stored("u1".into()),
                OrganizationId::from_stored("o1".into()),
                SessionId::from_stored("s1".into()),
            )
        });
        Subject {
            user_id: u,
            organization_id: o,
            role: "agent",
            session_id: s,
            client: "web",
            amr: &["pwd", "otp"],
        }
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let iss = issuer(SigningKey::from_seed([7; 32]));
        let token = iss.sign(&subject(), "j1".into(), T0).unwrap();
        let claims = iss
            .verify(&token, T0.plus(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.amr, vec!["pwd", "otp"]);
        assert_eq!(claims.exp - claims.iat, 600);
    }

    #[test]
    fn the_ready_ed25519_signer_makes_exactly_what_jsonwebtoken_makes() {
        let iss = issuer(SigningKey::from_seed([9; 32]));
        let fast = iss.sign(&subject(), "j1".into(), T0).unwrap();
        let mut slow_issuer = iss.clone();
        slow_issuer.active.ed25519 = None;
        let slow = slow_issuer.sign(&subject(), "j1".into(), T0).unwrap();
        assert_eq!(fast, slow);
        assert!(iss.verify(&fast, T0).is_ok());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let iss = issuer(SigningKey::from_seed([7; 32]));
        let token = iss.sign(&subject(), "j1".into(), T0).unwrap();
        assert_eq!(
            iss.verify(&token, T0.plus(Duration::from_secs(600))),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_from_another_key_is_refused() {
        let token = issuer(SigningKey::from_seed([8; 32]))
            .sign(&subject(), "j".into(), T0)
            .unwrap();
        assert_eq!(
            issuer(SigningKey::from_seed([7; 32])).verify(&token, T0),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let iss = issuer(SigningKey::from_seed([7; 32]));
        let token = iss.sign(&subject(), "j1".into(), T0).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(&parts[1]).unwrap()).unwrap();
        claims["role"] = "admin".into();
        parts[1] = B64URL.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(iss.verify(&parts.join("."), T0), Err(TokenError::Invalid));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let iss = issuer(SigningKey::from_seed([7; 32]));
        let header = B64URL.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let token = iss.sign(&subject(), "j1".into(), T0).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(
            iss.verify(&format!("{header}.{payload}."), T0),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn the_ttl_is_capped_at_fifteen_minutes() {
        let iss = TokenIssuer::new(
            SigningKey::from_seed([7; 32]),
            vec![],
            "i".into(),
            "a".into(),
            Duration::from_secs(3600),
        );
        assert_eq!(iss.ttl(), MAX_ACCESS_TTL);
    }

    #[test]
    fn keys_round_trip_through_pkcs8_pem() {
        let key = SigningKey::generate(SigningAlg::EdDSA, &mut rand_core::OsRng);
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(
            SigningKey::from_pkcs8_pem("garbage").unwrap_err(),
            TokenError::BadKey
        );
    }

    #[test]
    fn the_jwks_lists_the_public_key_only() {
        let key = SigningKey::from_seed([7; 32]);
        let jwks = issuer(key.clone()).jwks();
        let k = &jwks["keys"][0];
        assert_eq!(k["kty"], "OKP");
        assert_eq!(k["kid"], key.kid());
        assert!(k.get("d").is_none());
    }

    #[test]
    fn a_retired_key_still_verifies_its_tokens() {
        let old = SigningKey::from_seed([8; 32]);
        let token = issuer(old.clone())
            .sign(&subject(), "j".into(), T0)
            .unwrap();
        let rotated = TokenIssuer::new(
            SigningKey::from_seed([7; 32]),
            vec![old],
            "https://authgate.test".into(),
            "inbox".into(),
            Duration::from_secs(600),
        );
        assert!(rotated.verify(&token, T0).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn es256_keys_sign_verify_and_round_trip_through_pem() {
        let key = SigningKey::generate(SigningAlg::ES256, &mut rand_core::OsRng);
        let again = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.alg(), SigningAlg::ES256);
        let iss = issuer(key.clone());
        let token = iss.sign(&subject(), "j".into(), T0).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(iss.verify(&token, T0).unwrap().sub, "u1");
        let jwk = &iss.jwks()["keys"][0];
        assert_eq!(
            (&jwk["kty"], &jwk["crv"], &jwk["alg"], &jwk["use"]),
            (
                &"EC".into(),
                &"P-256".into(),
                &"ES256".into(),
                &"sig".into()
            )
        );
        assert!(jwk["x"].is_string() && jwk["y"].is_string());
        assert!(jwk.get("d").is_none());
    }

    #[test]
    fn a_token_whose_alg_differs_from_its_keys_is_refused() {
        let ed = SigningKey::from_seed([7; 32]);
        let es = SigningKey::generate(SigningAlg::ES256, &mut rand_core::OsRng);
        let es_token = issuer(es.clone()).sign(&subject(), "j".into(), T0).unwrap();
        // Relabel the ES256 token's key id as the Ed25519 key's.
        let mut parts: Vec<String> = es_token.split('.').map(str::to_owned).collect();
        let mut header: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(&parts[0]).unwrap()).unwrap();
        header["kid"] = ed.kid().into();
        parts[0] = B64URL.encode(serde_json::to_vec(&header).unwrap());
        let both = TokenIssuer::new(
            ed,
            vec![es],
            "https://authgate.test".into(),
            "inbox".into(),
            Duration::from_secs(600),
        );
        assert_eq!(both.verify(&parts.join("."), T0), Err(TokenError::Invalid));
        assert!(
            both.verify(&es_token, T0).is_ok(),
            "a retired ES256 key still verifies"
        );
    }

    #[test]
    fn signing_algorithms_parse_from_their_jwa_names() {
        assert_eq!("ES256".parse(), Ok(SigningAlg::ES256));
        assert_eq!("EdDSA".parse(), Ok(SigningAlg::EdDSA));
        assert!("RS256".parse::<SigningAlg>().is_err());
    }
}
