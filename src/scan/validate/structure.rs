//! Tokens without a public checksum whose encoding still has to parse: PyPI macaroons,
//! Kraken keys, JWTs, AWS key ids, KuCoin ObjectIds and headerless base64 DER keys.

use std::time::{SystemTime, UNIX_EPOCH};

use super::encoding::{b64_standard, b64_url};

/// Macaroon v2 field types (libmacaroons `v2` binary format, as PyPI issues them).
const EOS: u8 = 0;
const LOCATION: u8 = 1;
const IDENTIFIER: u8 = 2;
const VID: u8 = 4;
const SIGNATURE: u8 = 6;

/// A cursor over macaroon v2 packets: `type(1) varint(len) data`.
struct Packets<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Packets<'a> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Unsigned LEB128, at most 4 bytes (no field is near 256 MiB).
    fn varint(&mut self) -> Option<usize> {
        let mut v = 0usize;
        for shift in [0, 7, 14, 21] {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// Reads a field of type `ty`, if the next one is of that type.
    fn field(&mut self, ty: u8) -> Option<Option<&'a [u8]>> {
        if self.peek()? != ty {
            return Some(None);
        }
        self.pos += 1;
        let len = self.varint()?;
        let end = self.pos.checked_add(len)?;
        let data = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(Some(data))
    }

    fn eos(&mut self) -> Option<()> {
        (self.peek()? == EOS).then(|| self.pos += 1)
    }
}

/// `pypi-` + base64url of a macaroon v2 whose location is PyPI or TestPyPI (pypi/warehouse `macaroons`; tokens start `pypi-AgEIcHlwaS5vcmc`):
/// version 2, header (location, identifier, EOS), caveats (each: optional location,
/// identifier, optional verification id, EOS), EOS, then a 32-byte signature.
pub fn pypi_macaroon(s: &[u8]) -> bool {
    let Some(body) = s.strip_prefix(b"pypi-") else {
        return false;
    };
    let Some(data) = b64_url(body) else {
        return false;
    };
    parse_macaroon(&data).is_some()
}

fn parse_macaroon(data: &[u8]) -> Option<()> {
    if data.first() != Some(&2) {
        return None;
    }
    let mut p = Packets { data, pos: 1 };
    let location = p.field(LOCATION)??;
    if location != b"pypi.org" && location != b"test.pypi.org" {
        return None;
    }
    p.field(IDENTIFIER)??;
    p.eos()?;
    // Caveats until the EOS that closes the list; each is bounded by the data, so this ends.
    while p.peek()? != EOS {
        p.field(LOCATION)?;
        p.field(IDENTIFIER)??;
        p.field(VID)?;
        p.eos()?;
    }
    p.eos()?;
    let sig = p.field(SIGNATURE)??;
    (sig.len() == 32 && p.pos == data.len()).then_some(())
}

/// Kraken API key: standard base64 of 42 bytes (56 characters; trufflehog's `kraken` detector
/// and keys seen in public repositories).
pub fn kraken_key(s: &[u8]) -> bool {
    b64_standard(s).is_some_and(|d| d.len() == 42)
}

/// Kraken private key: standard base64 of 64 bytes (it is decoded for HMAC-SHA512).
pub fn kraken_secret(s: &[u8]) -> bool {
    b64_standard(s).is_some_and(|d| d.len() == 64)
}

/// JWT (RFC 7519): `header.payload.signature` in base64url; the header is a JSON object with
/// an `alg` string and the payload a JSON object. The signature cannot be checked offline,
/// only its alphabet.
pub fn jwt(s: &[u8]) -> bool {
    let mut parts = s.split(|&b| b == b'.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let json = |seg: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_slice(&b64_url(seg)?).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let header_ok = json(h).is_some_and(|m| m.get("alg").is_some_and(serde_json::Value::is_string));
    let sig_ok = sig
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    header_ok && sig_ok && json(p).is_some()
}

/// Payload claims that say whom or what a token authorises: RFC 7519's registered claims and the
/// usual identity and permission claims. A payload with none of them (`{"some":"payload"}` in
/// PyJWT's README) is a demonstration, not a session.
const SUBJECT_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "uid",
    "user_id",
    "userId",
    "username",
    "email",
    "role",
    "roles",
    "scope",
    "scp",
    "azp",
    "client_id",
    "permissions",
    "groups",
];

/// A JWT that still works as a credential when scanned: [`jwt`], signed (`alg` is not `none`),
/// with no `exp` claim or an `exp` still ahead of now (an expired token cannot be replayed), a
/// payload naming a subject or a permission ([`SUBJECT_CLAIMS`]), and not a role that is public
/// by design (Supabase's `anon` key ships in browser code).
pub fn jwt_live(s: &[u8]) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(u64::MAX, |d| d.as_secs());
    jwt_live_at(s, now)
}

/// [`jwt_live`] at a given time (seconds since the epoch), for tests.
pub fn jwt_live_at(s: &[u8], now: u64) -> bool {
    if !jwt(s) {
        return false;
    }
    let mut parts = s.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let object = |seg: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_slice(&b64_url(seg)?).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let (Some(header), Some(payload)) = (object(h), object(p)) else {
        return false;
    };
    let unsigned = header
        .get("alg")
        .and_then(serde_json::Value::as_str)
        .is_none_or(|a| a.eq_ignore_ascii_case("none"));
    let public_role = payload.get("role").and_then(serde_json::Value::as_str) == Some("anon");
    // A non-numeric `exp` is not a date a server would honour: treat it as expired.
    let unexpired = match payload.get("exp") {
        None => true,
        Some(e) => e.as_f64().is_some_and(|t| t > now as f64),
    };
    let names_subject = payload.keys().any(|k| SUBJECT_CLAIMS.contains(&k.as_str()));
    !unsigned && !public_role && unexpired && names_subject
}

/// AWS access key id: a known 4-character prefix and 16 characters of RFC 4648 base32
/// (`A-Z2-7`), which decode to 10 bytes. Real keys come in every shape that decodes, so this
/// is the whole check; [`aws_account_id`] recovers the account for reporting.
pub fn aws_key_id(s: &[u8]) -> bool {
    const PREFIXES: [&[u8]; 4] = [b"AKIA", b"ASIA", b"ABIA", b"ACCA"];
    s.len() == 20
        && (PREFIXES.iter().any(|p| s.starts_with(p))
            || s.starts_with(b"A3T") && s[3].is_ascii_alphanumeric())
        && base32_decode(&s[4..]).is_some()
}

/// RFC 4648 base32 of a 16-character body into 10 bytes.
fn base32_decode(s: &[u8]) -> Option<[u8; 10]> {
    if s.len() != 16 {
        return None;
    }
    let mut acc: u128 = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u128::from(v);
    }
    let bytes = acc.to_be_bytes();
    let mut out = [0u8; 10];
    out.copy_from_slice(&bytes[6..16]);
    Some(out)
}

/// The 12-digit AWS account of a key id (trufflehog `GetAccountNumFromID`):
/// the first 6 decoded bytes as a 48-bit big-endian x, account = (x & 0x7fffffffff80) >> 7.
/// Meaningless for old ids whose fifth character is `I` or `J`.
pub fn aws_account_id(s: &[u8]) -> Option<u64> {
    if s.len() != 20 || matches!(s[4], b'I' | b'J') {
        return None;
    }
    let b = base32_decode(&s[4..])?;
    let x = b[..6].iter().fold(0u64, |a, &v| (a << 8) | u64::from(v));
    Some((x & 0x7fff_ffff_ff80) >> 7)
}

/// 2017-01-01T00:00:00Z: KuCoin API keys are younger.
const KUCOIN_EPOCH: u64 = 1_483_228_800;

/// KuCoin API key: a MongoDB ObjectId (24 hex) whose leading 4-byte timestamp lies between
/// 2017-01-01 (KuCoin's launch) and one day from now: an ObjectId starts with its creation
/// time in seconds.
pub fn kucoin_objectid(s: &[u8]) -> bool {
    let mut b = [0u8; 12];
    if !super::encoding::hex_into(s, &mut b) {
        return false;
    }
    let t = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(u64::MAX, |d| d.as_secs());
    (KUCOIN_EPOCH..=now.saturating_add(86_400)).contains(&t)
}

/// Headerless base64 DER (PKCS#8, SEC1, PKCS#1 bodies): decodes to a SEQUENCE (0x30) whose
/// DER length covers exactly the decoded bytes. Whitespace (line breaks of a PEM body) is
/// ignored.
pub fn base64_der(s: &[u8]) -> bool {
    let compact: Vec<u8> = s
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let Some(d) = b64_standard(&compact).or_else(|| b64_url(&compact)) else {
        return false;
    };
    if d.len() < 2 || d[0] != 0x30 {
        return false;
    }
    let (header, len) = match d[1] {
        n @ 0..=0x7f => (2, usize::from(n)),
        // Long form, 1–4 length bytes; DER forbids a long form for lengths below 128.
        n @ 0x81..=0x84 => {
            let k = usize::from(n & 0x7f);
            let Some(bytes) = d.get(2..2 + k) else {
                return false;
            };
            if bytes[0] == 0 {
                return false;
            }
            let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
            if len < 0x80 {
                return false;
            }
            (2 + k, len)
        }
        _ => return false,
    };
    header + len == d.len()
}
