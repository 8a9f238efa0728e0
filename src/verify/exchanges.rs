//! Exchange verifiers: each signs one read-only account or key-info request the way the
//! exchange documents it, and reads the key's permissions where the exchange reports them.
//!
//! Sources (signing scheme and response fields):
//! - Binance: developers.binance.com, "Request security" (HMAC-SHA256 of the query string) and
//!   `GET /sapi/v1/account/apiRestrictions` (`enableReading`, `enableSpotAndMarginTrading`,
//!   `enableWithdrawals`, `ipRestrict`); Binance US and MEXC share the query-string scheme and
//!   report `canTrade`/`canWithdraw` from `GET /api/v3/account`.
//! - OKX: okx.com/docs-v5, REST authentication (Base64 HMAC-SHA256 of
//!   timestamp+method+path+body, passphrase header) and `GET /api/v5/account/config` (`perm`, `ip`).
//! - Bybit: bybit-exchange.github.io/docs/v5, "Integration guidance" (hex HMAC-SHA256 of
//!   timestamp+key+recvWindow+query) and `GET /v5/user/query-api` (`readOnly`, `permissions`, `ips`).
//! - Bitget: bitget.com/api-doc, signature (Base64 HMAC-SHA256 of timestamp+METHOD+path) and
//!   `GET /api/v2/spot/account/info` (`authorities`, `ips`).
//! - KuCoin: kucoin.com/docs, "Signing a message" (Base64 HMAC-SHA256; API key version 2 sends
//!   the passphrase HMAC'd with the secret) and `GET /api/v1/user/api-key` (`permission`, `ipWhitelist`).
//! - Kraken: docs.kraken.com, REST authentication (HMAC-SHA512 over path + SHA-256(nonce+postdata)
//!   with the Base64-decoded secret) and `POST /0/private/Balance`.
//! - Coinbase Advanced Trade: docs.cdp.coinbase.com, API key authentication (ES256 or EdDSA JWT
//!   with `kid`, `nonce`, `iss: cdp`, `uri`) and `GET /api/v3/brokerage/key_permissions`.
//! - Gate: gate.com/docs/developers/apiv4, APIv4 signature (hex HMAC-SHA512 of
//!   method\npath\nquery\nSHA512(body)\ntimestamp) and `GET /api/v4/account/detail`.
//! - Gemini: docs.gemini.com/rest-api (hex HMAC-SHA384 of the Base64 payload) and `POST /v1/roles`.
//! - Bitfinex: docs.bitfinex.com, authenticated endpoints (hex HMAC-SHA384 of
//!   `/api/`+path+nonce+body) and `POST /v2/auth/r/permissions`.

use serde_json::Value;

use super::http::{Client, Req, Resp};
use super::sign::*;
use super::{Creds, Provider, error, live, revoked};
use crate::finding::{Permissions, Verification};

pub static PROVIDERS: &[&Provider] = &[
    &BINANCE, &MEXC, &OKX, &BYBIT, &BITGET, &KUCOIN, &KRAKEN, &COINBASE, &GATE, &BITFINEX, &GEMINI,
];

const KEY: &[&str] = &["key"];
const KEY_PASS: &[&str] = &["key", "passphrase"];

fn secret(c: &Creds) -> &str {
    c.get("secret").unwrap_or("")
}

fn key(c: &Creds) -> &str {
    c.get("key").unwrap_or("")
}

/// A JSON field as text (numbers too).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Status and body that no rule below explained.
fn unexpected(resp: &Resp) -> Verification {
    error(format!("unexpected answer (HTTP {})", resp.status))
}

fn with_permissions(account: Option<String>, p: Permissions) -> Verification {
    let mut v = live();
    v.account = account;
    v.permissions = Some(p);
    v
}

// ---- Binance, Binance US, MEXC: HMAC-SHA256 of the query string ----

/// Binance and Binance US keys look alike and the rules cannot tell them apart (`binanceus`
/// configs match the Binance rule too), so a key binance.com does not know is asked to
/// binance.us before calling it revoked.
pub static BINANCE: Provider = Provider {
    name: "binance",
    rules: &["binance-api-secret", "binance-us-api-secret"],
    needs: KEY,
    host: "api.binance.com",
    endpoint: "GET /sapi/v1/account/apiRestrictions (then api.binance.us GET /api/v3/account)",
    check: binance_or_us,
};

fn binance_or_us(client: &Client, c: &Creds) -> Verification {
    let v = binance(client, c);
    if v.status != crate::finding::VerifyStatus::Revoked || v.reason.as_deref() != Some(UNKNOWN_KEY)
    {
        return v;
    }
    let mut us = binance_us(client, c);
    if us.status == crate::finding::VerifyStatus::Live {
        us.scopes = vec!["binance.us".into()];
        return us;
    }
    v
}

const UNKNOWN_KEY: &str = "the exchange does not know this API key";

fn query_signed(secret: &str) -> String {
    let q = format!("timestamp={}&recvWindow=10000", unix_millis());
    let sig = hex::encode(hmac_sha256(secret.as_bytes(), q.as_bytes()));
    format!("{q}&signature={sig}")
}

/// Binance error codes: -2008/-2014 unknown or malformed key, -1022 bad signature
/// (the secret does not belong to the key); -2015 also covers "not from an allowed IP".
fn binance_error(resp: &Resp) -> Verification {
    let body = resp.json();
    match body["code"].as_i64() {
        Some(-2008) | Some(-2014) => revoked(UNKNOWN_KEY),
        Some(-1022) => revoked("signature rejected: the secret does not match the key"),
        Some(-2015) => error(
            "key refused: invalid, revoked, or restricted to other IP addresses (Binance -2015)",
        ),
        _ => unexpected(resp),
    }
}

fn binance(client: &Client, c: &Creds) -> Verification {
    let path = "/sapi/v1/account/apiRestrictions";
    let resp = match client.send(|| {
        Req::get(BINANCE.host, format!("{path}?{}", query_signed(secret(c))))
            .header("X-MBX-APIKEY", key(c))
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    if resp.status != 200 {
        return binance_error(&resp);
    }
    let b = resp.json();
    let Some(read) = b["enableReading"].as_bool() else {
        return error("malformed answer (no enableReading)");
    };
    let flag = |k: &str| b[k].as_bool().unwrap_or(false);
    with_permissions(
        None,
        Permissions {
            read: Some(read),
            trade: Some(
                flag("enableSpotAndMarginTrading")
                    || flag("enableFutures")
                    || flag("enableMargin")
                    || flag("enableVanillaOptions")
                    || flag("enablePortfolioMarginTrading"),
            ),
            withdraw: Some(flag("enableWithdrawals")),
            ip_restricted: b["ipRestrict"].as_bool(),
        },
    )
}

const BINANCE_US_HOST: &str = "api.binance.us";

/// `GET /api/v3/account`-style answers (`canTrade`, `canWithdraw`, `uid`).
fn account_flags(b: &Value) -> Option<Verification> {
    let trade = b["canTrade"].as_bool()?;
    Some(with_permissions(
        text(&b["uid"]),
        Permissions {
            read: Some(true),
            trade: Some(trade),
            withdraw: b["canWithdraw"].as_bool(),
            ip_restricted: None,
        },
    ))
}

fn binance_us(client: &Client, c: &Creds) -> Verification {
    let resp = match client.send(|| {
        Req::get(
            BINANCE_US_HOST,
            format!("/api/v3/account?{}", query_signed(secret(c))),
        )
        .header("X-MBX-APIKEY", key(c))
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    if resp.status != 200 {
        return binance_error(&resp);
    }
    account_flags(&resp.json()).unwrap_or_else(|| error("malformed answer (no canTrade)"))
}

pub static MEXC: Provider = Provider {
    name: "mexc",
    rules: &["mexc-api-secret"],
    needs: KEY,
    host: "api.mexc.com",
    endpoint: "GET /api/v3/account",
    check: mexc,
};

fn mexc(client: &Client, c: &Creds) -> Verification {
    let resp = match client.send(|| {
        Req::get(
            MEXC.host,
            format!("/api/v3/account?{}", query_signed(secret(c))),
        )
        .header("X-MEXC-APIKEY", key(c))
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    if resp.status != 200 {
        // 10072: API key info invalid; 700002: signature not valid; 700006: IP not allowed.
        return match resp.json()["code"].as_i64() {
            Some(10072) => revoked(UNKNOWN_KEY),
            Some(700002) => revoked("signature rejected: the secret does not match the key"),
            Some(700006) => error("key restricted to other IP addresses"),
            _ => unexpected(&resp),
        };
    }
    account_flags(&resp.json()).unwrap_or_else(|| error("malformed answer (no canTrade)"))
}

// ---- OKX ----

pub static OKX: Provider = Provider {
    name: "okx",
    rules: &["okx-api-secret"],
    needs: KEY_PASS,
    host: "www.okx.com",
    endpoint: "GET /api/v5/account/config",
    check: okx,
};

fn okx(client: &Client, c: &Creds) -> Verification {
    let path = "/api/v5/account/config";
    let resp = match client.send(|| {
        let ts = iso8601_millis(now());
        let sig = b64(&hmac_sha256(
            secret(c).as_bytes(),
            format!("{ts}GET{path}").as_bytes(),
        ));
        Req::get(OKX.host, path)
            .header("OK-ACCESS-KEY", key(c))
            .header("OK-ACCESS-SIGN", sig)
            .header("OK-ACCESS-TIMESTAMP", ts)
            .header("OK-ACCESS-PASSPHRASE", c.get("passphrase").unwrap_or(""))
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match b["code"].as_str() {
        Some("0") => {}
        // 50111 invalid key, 50113 invalid signature, 50105 wrong passphrase, 50119 key gone.
        Some("50111") | Some("50119") => return revoked(UNKNOWN_KEY),
        Some("50113") => return revoked("signature rejected: the secret does not match the key"),
        Some("50105") => return revoked("the passphrase does not match the key"),
        Some("50110") => return error("key restricted to other IP addresses"),
        _ => return unexpected(&resp),
    }
    let d = &b["data"][0];
    let Some(perm) = d["perm"].as_str() else {
        return error("malformed answer (no perm)");
    };
    let perms: Vec<&str> = perm.split(',').map(str::trim).collect();
    with_permissions(
        text(&d["uid"]),
        Permissions {
            // Every OKX key can read (`read_only` is the read permission itself).
            read: Some(true),
            trade: Some(perms.contains(&"trade")),
            withdraw: Some(perms.contains(&"withdraw")),
            ip_restricted: Some(d["ip"].as_str().is_some_and(|s| !s.trim().is_empty())),
        },
    )
}

// ---- Bybit ----

pub static BYBIT: Provider = Provider {
    name: "bybit",
    rules: &["bybit-api-secret"],
    needs: KEY,
    host: "api.bybit.com",
    endpoint: "GET /v5/user/query-api",
    check: bybit,
};

fn bybit(client: &Client, c: &Creds) -> Verification {
    let resp = match client.send(|| {
        let ts = unix_millis().to_string();
        let recv = "10000";
        let sig = hex::encode(hmac_sha256(
            secret(c).as_bytes(),
            format!("{ts}{}{recv}", key(c)).as_bytes(),
        ));
        Req::get(BYBIT.host, "/v5/user/query-api")
            .header("X-BAPI-API-KEY", key(c))
            .header("X-BAPI-TIMESTAMP", ts)
            .header("X-BAPI-RECV-WINDOW", recv)
            .header("X-BAPI-SIGN", sig)
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match b["retCode"].as_i64() {
        Some(0) => {}
        // 10003 invalid key, 10004 signature error, 33004 key expired, 10010 IP not allowed.
        Some(10003) => return revoked(UNKNOWN_KEY),
        Some(10004) => return revoked("signature rejected: the secret does not match the key"),
        Some(33004) => return revoked("the API key has expired"),
        Some(10010) => return error("key restricted to other IP addresses"),
        _ => return unexpected(&resp),
    }
    let r = &b["result"];
    let Some(read_only) = r["readOnly"].as_i64() else {
        return error("malformed answer (no readOnly)");
    };
    let list = |k: &str| -> Vec<String> {
        r["permissions"][k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let trading = ["ContractTrade", "Spot", "Options", "Derivatives"]
        .iter()
        .any(|k| !list(k).is_empty());
    let ips: Vec<String> = r["ips"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut v = with_permissions(
        text(&r["userID"]),
        Permissions {
            read: Some(true),
            trade: Some(read_only == 0 && trading),
            withdraw: Some(read_only == 0 && list("Wallet").iter().any(|p| p == "Withdraw")),
            ip_restricted: Some(!ips.is_empty() && !ips.iter().any(|i| i == "*")),
        },
    );
    v.expires = text(&r["expiredAt"]);
    v
}

// ---- Bitget ----

pub static BITGET: Provider = Provider {
    name: "bitget",
    rules: &["bitget-api-secret"],
    needs: KEY_PASS,
    host: "api.bitget.com",
    endpoint: "GET /api/v2/spot/account/info",
    check: bitget,
};

fn bitget(client: &Client, c: &Creds) -> Verification {
    let path = "/api/v2/spot/account/info";
    let resp = match client.send(|| {
        let ts = unix_millis().to_string();
        let sig = b64(&hmac_sha256(
            secret(c).as_bytes(),
            format!("{ts}GET{path}").as_bytes(),
        ));
        Req::get(BITGET.host, path)
            .header("ACCESS-KEY", key(c))
            .header("ACCESS-SIGN", sig)
            .header("ACCESS-TIMESTAMP", ts)
            .header("ACCESS-PASSPHRASE", c.get("passphrase").unwrap_or(""))
            .header("locale", "en-US")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match b["code"].as_str() {
        Some("00000") => {}
        // 40006 invalid key, 40037 key does not exist, 40009 bad signature, 40012 wrong
        // passphrase, 40018 IP not allowed.
        Some("40006") | Some("40037") => {
            return revoked(UNKNOWN_KEY);
        }
        Some("40009") => return revoked("signature rejected: the secret does not match the key"),
        Some("40012") => return revoked("the passphrase does not match the key"),
        Some("40018") => return error("key restricted to other IP addresses"),
        _ => return unexpected(&resp),
    }
    let d = &b["data"];
    let Some(auth) = d["authorities"].as_array() else {
        return error("malformed answer (no authorities)");
    };
    let auth: Vec<String> = auth
        .iter()
        .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
        .collect();
    // Authorities name products with a read/write suffix (`spot_read`, `spot_trade`…) or
    // plain words (`readonly`, `trade`, `withdraw`, `transfer`).
    let has = |w: &str| auth.iter().any(|a| a.contains(w));
    let mut v = with_permissions(
        text(&d["userId"]),
        Permissions {
            read: Some(true),
            trade: Some(has("trade")),
            withdraw: Some(has("withdraw")),
            ip_restricted: Some(d["ips"].as_str().is_some_and(|s| !s.trim().is_empty())),
        },
    );
    v.scopes = auth;
    v
}

// ---- KuCoin ----

pub static KUCOIN: Provider = Provider {
    name: "kucoin",
    rules: &["kucoin-api-secret"],
    needs: KEY_PASS,
    host: "api.kucoin.com",
    endpoint: "GET /api/v1/user/api-key",
    check: kucoin,
};

fn kucoin(client: &Client, c: &Creds) -> Verification {
    let path = "/api/v1/user/api-key";
    let resp = match client.send(|| {
        let ts = unix_millis().to_string();
        let s = secret(c).as_bytes();
        let sig = b64(&hmac_sha256(s, format!("{ts}GET{path}").as_bytes()));
        let pass = b64(&hmac_sha256(
            s,
            c.get("passphrase").unwrap_or("").as_bytes(),
        ));
        Req::get(KUCOIN.host, path)
            .header("KC-API-KEY", key(c))
            .header("KC-API-SIGN", sig)
            .header("KC-API-TIMESTAMP", ts)
            .header("KC-API-PASSPHRASE", pass)
            .header("KC-API-KEY-VERSION", "2")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match b["code"].as_str() {
        Some("200000") => {}
        // 400003 key does not exist, 400004 wrong passphrase, 400005 bad signature,
        // 400006 IP not allowed, 411100 account frozen.
        Some("400003") => return revoked(UNKNOWN_KEY),
        Some("400004") => return revoked("the passphrase does not match the key"),
        Some("400005") => return revoked("signature rejected: the secret does not match the key"),
        Some("411100") => return revoked("the account is frozen"),
        Some("400006") => return error("key restricted to other IP addresses"),
        _ => return unexpected(&resp),
    }
    let d = &b["data"];
    let Some(perm) = d["permission"].as_str() else {
        return error("malformed answer (no permission)");
    };
    let perms: Vec<String> = perm.split(',').map(|p| p.trim().to_string()).collect();
    let has = |w: &str| perms.iter().any(|p| p.eq_ignore_ascii_case(w));
    let mut v = with_permissions(
        text(&d["uid"]),
        Permissions {
            read: Some(has("General")),
            trade: Some(has("Spot") || has("Margin") || has("Futures")),
            // KuCoin calls the withdrawal permission "Transfer" (InnerTransfer only moves
            // funds between the account's own sub-accounts).
            withdraw: Some(has("Transfer") || has("Withdrawal")),
            ip_restricted: Some(
                d["ipWhitelist"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
            ),
        },
    );
    v.scopes = perms;
    v
}

// ---- Kraken ----

pub static KRAKEN: Provider = Provider {
    name: "kraken",
    rules: &["kraken-api-secret"],
    needs: KEY,
    host: "api.kraken.com",
    endpoint: "POST /0/private/Balance",
    check: kraken,
};

fn kraken(client: &Client, c: &Creds) -> Verification {
    let path = "/0/private/Balance";
    let Some(raw_secret) = b64_decode(secret(c)) else {
        return revoked("the secret is not Base64, so it cannot be a Kraken API secret");
    };
    let resp = match client.send(|| {
        let nonce = unix_millis().to_string();
        let body = format!("nonce={nonce}");
        let mut msg = path.as_bytes().to_vec();
        msg.extend(sha256(format!("{nonce}{body}").as_bytes()));
        let sig = b64(&hmac_sha512(&raw_secret, &msg));
        Req::post(KRAKEN.host, path, body)
            .header("API-Key", key(c))
            .header("API-Sign", sig)
            .header("Content-Type", "application/x-www-form-urlencoded")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    let errors: Vec<&str> = b["error"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if resp.status == 200 && errors.is_empty() && b["result"].is_object() {
        return with_permissions(
            None,
            Permissions {
                read: Some(true),
                ..Permissions::default()
            },
        );
    }
    match errors.first().copied() {
        Some("EAPI:Invalid key") => revoked(UNKNOWN_KEY),
        Some("EAPI:Invalid signature") => {
            revoked("signature rejected: the secret does not match the key")
        }
        // Authenticated, but without "Query Funds": the key works.
        Some("EGeneral:Permission denied") => with_permissions(
            None,
            Permissions {
                read: Some(false),
                ..Permissions::default()
            },
        ),
        Some(e) if e.starts_with("EAPI:Invalid nonce") => error("nonce rejected by the exchange"),
        _ => unexpected(&resp),
    }
}

// ---- Coinbase Advanced Trade (CDP keys) ----

pub static COINBASE: Provider = Provider {
    name: "coinbase",
    rules: &["coinbase-cdp-private-key", "coinbase-cdp-ed25519-secret"],
    needs: KEY,
    host: "api.coinbase.com",
    endpoint: "GET /api/v3/brokerage/key_permissions",
    check: coinbase,
};

/// The `Bearer` JWT for one request: ES256 for an EC PEM key, EdDSA for a Base64 Ed25519 key.
pub(crate) fn coinbase_jwt(key_name: &str, secret: &str, uri: &str) -> Result<String, String> {
    let pem = secret.replace("\\n", "\n").replace("\\r", "");
    let t = unix_secs();
    let payload = serde_json::json!({
        "sub": key_name, "iss": "cdp", "nbf": t, "exp": t + 120, "uri": uri,
    });
    let sign_with = |alg: &str, sign: &dyn Fn(&[u8]) -> Vec<u8>| {
        let header = serde_json::json!({
            "alg": alg, "kid": key_name, "nonce": random_hex(16), "typ": "JWT",
        });
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes())
        );
        let sig = sign(input.as_bytes());
        format!("{input}.{}", b64url(&sig))
    };
    if pem.contains("BEGIN EC PRIVATE KEY") {
        use p256::ecdsa::signature::Signer;
        let sk = p256::SecretKey::from_sec1_pem(pem.trim())
            .map_err(|_| "the private key is not a valid P-256 EC key".to_string())?;
        let signing = p256::ecdsa::SigningKey::from(sk);
        Ok(sign_with("ES256", &|m| {
            let s: p256::ecdsa::Signature = signing.sign(m);
            s.to_bytes().to_vec()
        }))
    } else {
        use ed25519_dalek::Signer;
        let raw = b64_decode(secret).ok_or("the secret is not Base64")?;
        let seed: [u8; 32] = raw
            .get(..32)
            .and_then(|s| s.try_into().ok())
            .ok_or("the Ed25519 secret is too short")?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(sign_with("EdDSA", &|m| signing.sign(m).to_bytes().to_vec()))
    }
}

fn coinbase(client: &Client, c: &Creds) -> Verification {
    let path = "/api/v3/brokerage/key_permissions";
    let uri = format!("GET {}{path}", COINBASE.host);
    if let Err(e) = coinbase_jwt(key(c), secret(c), &uri) {
        return Verification::new(
            crate::finding::VerifyStatus::Unsupported,
            "",
            Some(format!("{e}: nothing to sign with")),
        );
    }
    let resp = match client.send(|| {
        let jwt = coinbase_jwt(key(c), secret(c), &uri).unwrap_or_default();
        Req::get(COINBASE.host, path).header("Authorization", format!("Bearer {jwt}"))
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    match resp.status {
        200 => {}
        401 => return revoked("the exchange rejected the key (HTTP 401)"),
        _ => return unexpected(&resp),
    }
    let b = resp.json();
    let Some(view) = b["can_view"].as_bool() else {
        return error("malformed answer (no can_view)");
    };
    with_permissions(
        text(&b["portfolio_uuid"]),
        Permissions {
            read: Some(view),
            trade: b["can_trade"].as_bool(),
            withdraw: b["can_transfer"].as_bool(),
            ip_restricted: None,
        },
    )
}

// ---- Gate ----

pub static GATE: Provider = Provider {
    name: "gate",
    rules: &["gate-api-secret"],
    needs: KEY,
    host: "api.gateio.ws",
    endpoint: "GET /api/v4/account/detail",
    check: gate,
};

fn gate(client: &Client, c: &Creds) -> Verification {
    let path = "/api/v4/account/detail";
    let resp = match client.send(|| {
        let ts = unix_secs().to_string();
        let body_hash = hex::encode(sha512(b""));
        let msg = format!("GET\n{path}\n\n{body_hash}\n{ts}");
        let sig = hex::encode(hmac_sha512(secret(c).as_bytes(), msg.as_bytes()));
        Req::get(GATE.host, path)
            .header("KEY", key(c))
            .header("Timestamp", ts)
            .header("SIGN", sig)
            .header("Accept", "application/json")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    if resp.status != 200 {
        return match b["label"].as_str() {
            Some("INVALID_KEY") => revoked(UNKNOWN_KEY),
            Some("INVALID_SIGNATURE") => {
                revoked("signature rejected: the secret does not match the key")
            }
            Some("FORBIDDEN") => error("key refused: restricted to other IP addresses"),
            _ => unexpected(&resp),
        };
    }
    if !b.is_object() || b.get("user_id").is_none() {
        return error("malformed answer (no user_id)");
    }
    with_permissions(
        text(&b["user_id"]),
        Permissions {
            read: Some(true),
            trade: None,
            withdraw: None,
            ip_restricted: Some(b["ip_whitelist"].as_array().is_some_and(|a| !a.is_empty())),
        },
    )
}

// ---- Bitfinex ----

pub static BITFINEX: Provider = Provider {
    name: "bitfinex",
    rules: &["bitfinex-api-secret"],
    needs: KEY,
    host: "api.bitfinex.com",
    endpoint: "POST /v2/auth/r/permissions",
    check: bitfinex,
};

fn bitfinex(client: &Client, c: &Creds) -> Verification {
    let path = "/v2/auth/r/permissions";
    let resp = match client.send(|| {
        let nonce = (unix_millis() * 1000).to_string();
        let body = "{}";
        let sig = hex::encode(hmac_sha384(
            secret(c).as_bytes(),
            format!("/api{path}{nonce}{body}").as_bytes(),
        ));
        Req::post(BITFINEX.host, path, body)
            .header("bfx-nonce", nonce)
            .header("bfx-apikey", key(c))
            .header("bfx-signature", sig)
            .header("Content-Type", "application/json")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    if b[0].as_str() == Some("error") {
        // 10100: "apikey: invalid" / "apikey: digest invalid"; 10114: nonce too small.
        let msg = b[2].as_str().unwrap_or("");
        return if msg.contains("digest") {
            revoked("signature rejected: the secret does not match the key")
        } else if b[1].as_i64() == Some(10100) {
            revoked(UNKNOWN_KEY)
        } else {
            unexpected(&resp)
        };
    }
    let Some(rows) = b.as_array().filter(|_| resp.status == 200) else {
        return unexpected(&resp);
    };
    let grant = |scope: &str, idx: usize| {
        rows.iter()
            .find(|r| r[0].as_str() == Some(scope))
            .map(|r| r[idx].as_i64() == Some(1))
    };
    with_permissions(
        None,
        Permissions {
            read: grant("wallets", 1),
            trade: grant("orders", 2),
            withdraw: grant("withdraw", 2),
            ip_restricted: None,
        },
    )
}

// ---- Gemini ----

pub static GEMINI: Provider = Provider {
    name: "gemini",
    rules: &["gemini-api-secret"],
    needs: KEY,
    host: "api.gemini.com",
    endpoint: "POST /v1/roles",
    check: gemini,
};

/// Gemini: the payload travels Base64-encoded in a header, signed with hex HMAC-SHA384
/// (docs.gemini.com/rest-api, "Private API invocation"); `/v1/roles` reports whether the key is
/// an Auditor (read), Trader or Fund Manager (withdraw).
fn gemini(client: &Client, c: &Creds) -> Verification {
    let path = "/v1/roles";
    let resp = match client.send(|| {
        let payload = serde_json::json!({"request": path, "nonce": unix_millis().to_string()});
        let p64 = b64(payload.to_string().as_bytes());
        let sig = hex::encode(hmac_sha384(secret(c).as_bytes(), p64.as_bytes()));
        Req::post(GEMINI.host, path, "")
            .header("Content-Type", "text/plain")
            .header("X-GEMINI-APIKEY", key(c))
            .header("X-GEMINI-PAYLOAD", p64)
            .header("X-GEMINI-SIGNATURE", sig)
            .header("Cache-Control", "no-cache")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    if b["result"].as_str() == Some("error") {
        return match b["reason"].as_str() {
            Some("InvalidApiKey") | Some("MissingApiKeyHeader") => revoked(UNKNOWN_KEY),
            Some("InvalidSignature") => {
                revoked("signature rejected: the secret does not match the key")
            }
            Some("InvalidIP") => error("key restricted to other IP addresses"),
            _ => unexpected(&resp),
        };
    }
    if resp.status != 200 {
        return unexpected(&resp);
    }
    let Some(trader) = b["isTrader"].as_bool() else {
        return error("malformed answer (no isTrader)");
    };
    let mut v = with_permissions(
        text(&b["counterparty_id"]),
        Permissions {
            read: Some(true),
            trade: Some(trader),
            withdraw: b["isFundManager"].as_bool(),
            ip_restricted: None,
        },
    );
    v.scopes = ["isAuditor", "isTrader", "isFundManager"]
        .iter()
        .filter(|k| b[**k].as_bool() == Some(true))
        .map(|k| k.trim_start_matches("is").to_string())
        .collect();
    v
}
