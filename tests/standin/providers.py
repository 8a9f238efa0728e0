#!/usr/bin/env python3
"""Loopback stand-in for the providers `keyleak --verify` talks to (tests and benchmarks only).

Usage: providers.py CONFIG.json  — prints `PORT <n>` once listening on 127.0.0.1.

keyleak reaches it through KEYLEAK_VERIFY_TEST_BASE_URL, which turns
`https://api.binance.com/sapi/...` into `http://127.0.0.1:<n>/api.binance.com/sapi/...`.
Each handler implements the provider's side independently of keyleak's code: it recomputes
the HMAC / SigV4 / JWT signature from the credential in CONFIG and answers the way the
provider documents (live, unknown key, bad signature), so a signing mistake in keyleak shows
up as `revoked` instead of `live`.

CONFIG: {"creds": [{"provider": "binance", "secret": "...", "key": "...", "passphrase": "...",
"uid": "...", "behavior": "live"}], "delay": 0.0, "slow_seconds": 3}
behavior: live | revoked (answered as an unknown key) | ratelimit (one 429 with Retry-After: 1,
then live) | ratelimit-long (429 with Retry-After: 3600, always) | slow (sleep, then live) |
malformed (HTTP 200 with an HTML body). `delay` is added to every request (network latency).
GET /__stats returns request counts, the highest number of requests in flight (overall and per
provider), signature failures and every User-Agent seen.
"""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

CONFIG = json.load(open(sys.argv[1]))
CREDS = CONFIG["creds"]
DELAY = float(CONFIG.get("delay", 0))
SLOW = float(CONFIG.get("slow_seconds", 3))

LOCK = threading.Lock()
STATS = {
    "requests": 0,
    "by_provider": {},
    "in_flight": 0,
    "max_in_flight": 0,
    "in_flight_by_provider": {},
    "max_in_flight_by_provider": {},
    "bad_signatures": [],
    "user_agents": [],
    "paths": [],
    "by_cred": {},  # index in CONFIG["creds"] -> requests that presented it
}
SEEN = {}  # (provider, credential) -> requests so far, for `ratelimit`


def hmac_hex(algo, key, msg):
    return hmac.new(key, msg, algo).hexdigest()


def hmac_b64(algo, key, msg):
    return base64.b64encode(hmac.new(key, msg, algo).digest()).decode()


def find(provider, field, value):
    for c in CREDS:
        if c["provider"] == provider and c.get(field) == value:
            return c
    return None


def bad_sig(provider):
    with LOCK:
        STATS["bad_signatures"].append(provider)


def j(status, obj, headers=None):
    return status, headers or {}, json.dumps(obj)


# ---- per-provider protocol checks: each returns (cred or None, failure response or None) ----


def binance_like(provider, key_header, unknown, badsig, us=False):
    def check(req):
        cred = find(provider, "key", req.headers.get(key_header))
        # A Binance US key (`"us": true`) is unknown to binance.com and the reverse.
        if cred is not None and provider == "binance" and bool(cred.get("us")) != us:
            cred = None
        if cred is None:
            return None, j(*unknown)
        query = req.query
        if "&signature=" not in query:
            return None, j(*badsig)
        payload, sig = query.rsplit("&signature=", 1)
        ts = int(dict(parse_qsl(payload))["timestamp"])
        want = hmac_hex(hashlib.sha256, cred["secret"].encode(), payload.encode())
        if not hmac.compare_digest(want, sig) or abs(ts - time.time() * 1000) > 60000:
            bad_sig(provider)
            return None, j(*badsig)
        return cred, None

    return check


def okx(req):
    h = req.headers
    cred = find("okx", "key", h.get("OK-ACCESS-KEY"))
    if cred is None:
        return None, j(401, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []})
    msg = (h.get("OK-ACCESS-TIMESTAMP", "") + req.method + req.path_qs + req.body).encode()
    if h.get("OK-ACCESS-SIGN") != hmac_b64(hashlib.sha256, cred["secret"].encode(), msg):
        bad_sig("okx")
        return None, j(401, {"code": "50113", "msg": "Invalid Sign", "data": []})
    if h.get("OK-ACCESS-PASSPHRASE") != cred["passphrase"]:
        return None, j(401, {"code": "50105", "msg": "Invalid OK-ACCESS-PASSPHRASE", "data": []})
    return cred, None


def bybit(req):
    h = req.headers
    cred = find("bybit", "key", h.get("X-BAPI-API-KEY"))
    if cred is None:
        return None, j(200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}})
    msg = (h.get("X-BAPI-TIMESTAMP", "") + cred["key"] + h.get("X-BAPI-RECV-WINDOW", "") + req.query).encode()
    if h.get("X-BAPI-SIGN") != hmac_hex(hashlib.sha256, cred["secret"].encode(), msg):
        bad_sig("bybit")
        return None, j(200, {"retCode": 10004, "retMsg": "error sign! origin_string[...]", "result": {}})
    return cred, None


def bitget(req):
    h = req.headers
    cred = find("bitget", "key", h.get("ACCESS-KEY"))
    if cred is None:
        return None, j(400, {"code": "40006", "msg": "Invalid ACCESS_KEY", "data": None})
    msg = (h.get("ACCESS-TIMESTAMP", "") + req.method + req.path_qs + req.body).encode()
    if h.get("ACCESS-SIGN") != hmac_b64(hashlib.sha256, cred["secret"].encode(), msg):
        bad_sig("bitget")
        return None, j(400, {"code": "40009", "msg": "sign signature error", "data": None})
    if h.get("ACCESS-PASSPHRASE") != cred["passphrase"]:
        return None, j(400, {"code": "40012", "msg": "apikey/password is incorrect", "data": None})
    return cred, None


def kucoin(req):
    h = req.headers
    cred = find("kucoin", "key", h.get("KC-API-KEY"))
    if cred is None:
        return None, j(401, {"code": "400003", "msg": "KC-API-KEY not exists"})
    secret = cred["secret"].encode()
    msg = (h.get("KC-API-TIMESTAMP", "") + req.method + req.path_qs + req.body).encode()
    if h.get("KC-API-SIGN") != hmac_b64(hashlib.sha256, secret, msg):
        bad_sig("kucoin")
        return None, j(401, {"code": "400005", "msg": "Signature verification failed"})
    want_pass = hmac_b64(hashlib.sha256, secret, cred["passphrase"].encode())
    if h.get("KC-API-KEY-VERSION") != "2" or h.get("KC-API-PASSPHRASE") != want_pass:
        return None, j(401, {"code": "400004", "msg": "Invalid KC-API-PASSPHRASE"})
    return cred, None


def kraken(req):
    h = req.headers
    cred = find("kraken", "key", h.get("API-Key"))
    if cred is None:
        return None, j(200, {"error": ["EAPI:Invalid key"]})
    nonce = dict(parse_qsl(req.body)).get("nonce", "")
    msg = req.path.encode() + hashlib.sha256((nonce + req.body).encode()).digest()
    want = hmac_b64(hashlib.sha512, base64.b64decode(cred["secret"]), msg)
    if h.get("API-Sign") != want or not nonce:
        bad_sig("kraken")
        return None, j(200, {"error": ["EAPI:Invalid signature"]})
    return cred, None


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def coinbase(req):
    unauthorized = (401, {}, "Unauthorized\n")
    auth = req.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or auth.count(".") != 2:
        return None, unauthorized
    head_b, body_b, sig_b = auth[7:].split(".")
    header = json.loads(b64url_decode(head_b))
    claims = json.loads(b64url_decode(body_b))
    cred = find("coinbase", "key", header.get("kid"))
    if cred is None:
        return None, unauthorized
    signed = (head_b + "." + body_b).encode()
    sig = b64url_decode(sig_b)
    try:
        pem = cred["secret"].replace("\\n", "\n").encode()
        if b"BEGIN EC PRIVATE KEY" in pem:
            assert header["alg"] == "ES256" and len(sig) == 64
            public = serialization.load_pem_private_key(pem, None).public_key()
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            assert header["alg"] == "EdDSA"
            seed = base64.b64decode(cred["secret"])[:32]
            ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().verify(sig, signed)
        now = time.time()
        host = req.host
        assert claims["iss"] == "cdp" and claims["sub"] == cred["key"]
        assert claims["uri"] == f"{req.method} {host}{req.path}"
        assert claims["nbf"] <= now + 5 and now < claims["exp"] <= now + 300
        assert header.get("nonce")
    except Exception as e:
        bad_sig("coinbase: " + repr(e))
        return None, unauthorized
    return cred, None


def gate(req):
    h = req.headers
    cred = find("gate", "key", h.get("KEY"))
    if cred is None:
        return None, j(401, {"label": "INVALID_KEY", "message": "Invalid key provided"})
    body_hash = hashlib.sha512(req.body.encode()).hexdigest()
    msg = f"{req.method}\n{req.path}\n{req.query}\n{body_hash}\n{h.get('Timestamp', '')}".encode()
    if h.get("SIGN") != hmac_hex(hashlib.sha512, cred["secret"].encode(), msg):
        bad_sig("gate")
        return None, j(401, {"label": "INVALID_SIGNATURE", "message": "Signature mismatch"})
    return cred, None


def bitfinex(req):
    h = req.headers
    cred = find("bitfinex", "key", h.get("bfx-apikey"))
    if cred is None:
        return None, j(500, ["error", 10100, "apikey: invalid"])
    msg = ("/api" + req.path + h.get("bfx-nonce", "") + req.body).encode()
    if h.get("bfx-signature") != hmac_hex(hashlib.sha384, cred["secret"].encode(), msg):
        bad_sig("bitfinex")
        return None, j(500, ["error", 10100, "apikey: digest invalid"])
    return cred, None


def gemini(req):
    h = req.headers
    cred = find("gemini", "key", h.get("X-GEMINI-APIKEY"))
    if cred is None:
        return None, j(400, {"result": "error", "reason": "InvalidApiKey", "message": "Invalid API key"})
    payload = h.get("X-GEMINI-PAYLOAD", "")
    want = hmac_hex(hashlib.sha384, cred["secret"].encode(), payload.encode())
    try:
        request = json.loads(base64.b64decode(payload))["request"]
    except Exception:
        request = None
    if h.get("X-GEMINI-SIGNATURE") != want or request != req.path:
        bad_sig("gemini")
        return None, j(400, {"result": "error", "reason": "InvalidSignature", "message": "InvalidSignature"})
    return cred, None


def aws(req):
    def error(code, message):
        return (403, {"Content-Type": "text/xml"},
                f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>4c7f2b4e-0000-4000-8000-000000000000</RequestId></ErrorResponse>")

    auth = req.headers.get("Authorization", "")
    fields = dict(p.strip().split("=", 1) for p in auth.replace("AWS4-HMAC-SHA256 ", "").split(","))
    key_id, date, region, service, _ = fields.get("Credential", "////").split("/")
    cred = find("aws", "key", key_id)
    if cred is None:
        return None, error("InvalidClientTokenId", "The security token included in the request is invalid.")
    signed = fields["SignedHeaders"].split(";")
    values = {n: (req.host if n == "host" else req.headers.get(n, "")) for n in signed}
    canonical = "\n".join([
        req.method, req.path, req.query,
        "".join(f"{n}:{values[n].strip()}\n" for n in signed),
        ";".join(signed), hashlib.sha256(req.body.encode()).hexdigest(),
    ])
    amz_date = req.headers.get("X-Amz-Date", "")
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + cred["secret"]).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    want = hmac_hex(hashlib.sha256, k, to_sign.encode())
    if want != fields.get("Signature") or "host" not in signed or not amz_date.startswith(date) \
            or (region, service) != ("us-east-1", "sts"):
        bad_sig("aws")
        return None, error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    if dict(parse_qsl(req.body)).get("Action") != "GetCallerIdentity":
        return None, error("InvalidAction", "Only GetCallerIdentity is served here.")
    return cred, None


def token_check(provider, extract, unknown):
    def check(req):
        cred = find(provider, "secret", extract(req))
        return (cred, None) if cred else (None, unknown)

    return check


def bearer(req):
    a = req.headers.get("Authorization", "")
    return a[7:] if a.startswith("Bearer ") else None


def twilio(req):
    a = req.headers.get("Authorization", "")
    unknown = j(401, {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
    if not a.startswith("Basic "):
        return None, unknown
    user, _, password = base64.b64decode(a[6:]).decode().partition(":")
    sid = req.path.split("/Accounts/")[-1].removesuffix(".json")
    for c in CREDS:
        if c["provider"] == "twilio" and c["secret"] == password and c["uid"] == sid and user in (c.get("key"), c["uid"]):
            return c, None
    return None, unknown


def telegram(req):
    token = req.path.split("/")[1].removeprefix("bot")
    cred = find("telegram", "secret", token)
    if cred is None or not req.path.endswith("/getMe"):
        return None, j(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    return cred, None


# ---- live answers: the providers' documented response shapes ----

LIVE = {
    "binance": lambda c: j(200, {
        "ipRestrict": False, "createTime": 1698645219000, "enableReading": True,
        "enableWithdrawals": True, "enableInternalTransfer": False, "enableMargin": False,
        "enableFutures": False, "permitsUniversalTransfer": False, "enableVanillaOptions": False,
        "enableFixApiTrade": False, "enableFixReadOnly": False,
        "enableSpotAndMarginTrading": True, "enablePortfolioMarginTrading": False}),
    "binance-us": lambda c: j(200, {
        "makerCommission": 15, "takerCommission": 15, "canTrade": True, "canWithdraw": False,
        "canDeposit": True, "accountType": "SPOT", "balances": [], "permissions": ["SPOT"], "uid": 354937868}),
    "mexc": lambda c: j(200, {
        "makerCommission": None, "canTrade": True, "canWithdraw": False, "canDeposit": False,
        "accountType": "SPOT", "balances": [], "permissions": ["SPOT"]}),
    "okx": lambda c: j(200, {"code": "0", "msg": "", "data": [{
        "uid": "44705892343619584", "mainUid": "44705892343619584", "acctLv": "2", "posMode": "long_short_mode",
        "label": "freqtrade", "perm": "read_only,trade", "ip": "203.0.113.7", "level": "Lv1"}]}),
    "bybit": lambda c: j(200, {"retCode": 0, "retMsg": "", "result": {
        "id": "13770661", "note": "bot", "apiKey": c["key"], "readOnly": 0, "secret": "",
        "permissions": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                        "Wallet": ["AccountTransfer", "SubMemberTransfer", "Withdraw"], "Options": [],
                        "Derivatives": [], "Exchange": [], "Earn": [], "BlockTrade": [], "NFT": []},
        "ips": ["*"], "type": 1, "deadlineDay": 66, "expiredAt": "2027-02-10T08:00:00Z",
        "createdAt": "2026-11-12T08:00:00Z", "unified": 0, "uta": 1, "userID": 24617703,
        "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0,
        "rsaPublicKey": "", "isMaster": True, "parentUid": "0"}, "retExtInfo": {}, "time": 1733471234000}),
    "bitget": lambda c: j(200, {"code": "00000", "msg": "success", "requestTime": 1733471234000, "data": {
        "userId": "2961742091", "inviterId": "0", "ips": "", "authorities": ["readonly", "trade"],
        "parentId": 2961742091, "traderType": "", "channelCode": "", "channel": "", "regisTime": "1681970463000"}}),
    "kucoin": lambda c: j(200, {"code": "200000", "data": {
        "remark": "bot", "apiKey": c["key"], "apiVersion": 3, "permission": "General,Spot,Transfer",
        "ipWhitelist": "203.0.113.7", "createdAt": 1733471234000, "uid": 165111215, "isMaster": True}}),
    "kraken": lambda c: j(200, {"error": [], "result": {"ZUSD": "1712.6158", "XXBT": "0.0011000000"}}),
    "coinbase": lambda c: j(200, {"can_view": True, "can_trade": True, "can_transfer": False,
                                  "portfolio_uuid": "c2a0b6c8-0c1e-4f3c-9a55-1d2b3c4d5e6f",
                                  "portfolio_type": "DEFAULT"}),
    "gate": lambda c: j(200, {"user_id": 1667201533, "ip_whitelist": [], "currency_pairs": [],
                              "key": {"mode": 1}, "tier": 2, "copy_trading_role": 0}),
    "gemini": lambda c: j(200, {"counterparty_id": "G7KQ4XJ2", "isAuditor": False, "isFundManager": True,
                                "isTrader": True}),
    "bitfinex": lambda c: j(200, [["account", 0, 0], ["history", 1, 0], ["orders", 1, 1],
                                  ["positions", 1, 0], ["funding", 1, 1], ["settings", 1, 1],
                                  ["wallets", 1, 0], ["withdraw", 0, 1]]),
    "aws": lambda c: (200, {"Content-Type": "text/xml"},
                      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                      "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci-deployer</Arn>"
                      "<UserId>AIDASAMPLEUSERID</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
                      "<ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>"
                      "</ResponseMetadata></GetCallerIdentityResponse>"),
    "github": lambda c: j(200, {"login": "octocat", "id": 583231, "type": "User", "site_admin": False},
                          {"X-OAuth-Scopes": "repo, workflow", "X-Accepted-OAuth-Scopes": ""}),
    "gitlab": lambda c: j(200, {"id": 4, "name": "ci", "revoked": False, "created_at": "2026-01-01T00:00:00.000Z",
                                "scopes": ["api", "read_repository"], "user_id": 3, "active": True,
                                "expires_at": "2027-01-01"}),
    "slack": lambda c: j(200, {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "deploybot",
                               "team_id": "T0123", "user_id": "U0123", "bot_id": "B0123"},
                         {"X-OAuth-Scopes": "chat:write,channels:read"}),
    "stripe": lambda c: j(200, {"object": "balance", "available": [{"amount": 0, "currency": "usd"}],
                                "livemode": c["secret"].startswith(("sk_live", "rk_live")), "pending": []}),
    "openai": lambda c: j(200, {"object": "list", "data": [{"id": "gpt-4o", "object": "model",
                                                            "created": 1715367049, "owned_by": "system"}]},
                          {"openai-organization": "org-acme"}),
    "anthropic": lambda c: j(200, {"data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                                             "created_at": "2025-09-29T00:00:00Z"}], "has_more": False,
                                   "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"}),
    "sendgrid": lambda c: j(200, {"scopes": ["mail.send", "alerts.read"]}),
    "twilio": lambda c: j(200, {"sid": c["uid"], "friendly_name": "Acme prod", "status": "active", "type": "Full"}),
    "telegram": lambda c: j(200, {"ok": True, "result": {"id": 7012345678, "is_bot": True, "first_name": "Deploy",
                                                         "username": "acme_deploy_bot"}}),
    "huggingface": lambda c: j(200, {"type": "user", "name": "alice",
                                     "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "write"}}}),
    "digitalocean": lambda c: j(200, {"account": {"droplet_limit": 25, "email": "ops@example.com",
                                                  "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef", "status": "active"}}),
    "discord": lambda c: j(200, {"id": "80351110224678912", "username": "deploybot", "bot": True}),
    "npm": lambda c: j(200, {"username": "alice"}),
}

ROUTES = {
    # host: (provider, method, path, check)
    "api.binance.com": ("binance", "GET", "/sapi/v1/account/apiRestrictions",
                        binance_like("binance", "X-MBX-APIKEY", (401, {"code": -2008, "msg": "Invalid Api-Key ID."}),
                                     (400, {"code": -1022, "msg": "Signature for this request is not valid."}))),
    "api.binance.us": ("binance-us", "GET", "/api/v3/account",
                       binance_like("binance", "X-MBX-APIKEY", (401, {"code": -2008, "msg": "Invalid Api-Key ID."}),
                                    (400, {"code": -1022, "msg": "Signature for this request is not valid."}), us=True)),
    "api.mexc.com": ("mexc", "GET", "/api/v3/account",
                     binance_like("mexc", "X-MEXC-APIKEY", (400, {"code": 10072, "msg": "Api key info invalid"}),
                                  (400, {"code": 700002, "msg": "Signature for this request is not valid."}))),
    "www.okx.com": ("okx", "GET", "/api/v5/account/config", okx),
    "api.bybit.com": ("bybit", "GET", "/v5/user/query-api", bybit),
    "api.bitget.com": ("bitget", "GET", "/api/v2/spot/account/info", bitget),
    "api.kucoin.com": ("kucoin", "GET", "/api/v1/user/api-key", kucoin),
    "api.kraken.com": ("kraken", "POST", "/0/private/Balance", kraken),
    "api.coinbase.com": ("coinbase", "GET", "/api/v3/brokerage/key_permissions", coinbase),
    "api.gateio.ws": ("gate", "GET", "/api/v4/account/detail", gate),
    "api.gemini.com": ("gemini", "POST", "/v1/roles", gemini),
    "api.bitfinex.com": ("bitfinex", "POST", "/v2/auth/r/permissions", bitfinex),
    "sts.amazonaws.com": ("aws", "POST", "/", aws),
    "api.github.com": ("github", "GET", "/user",
                       token_check("github", bearer, j(401, {"message": "Bad credentials", "status": "401"}))),
    "gitlab.com": ("gitlab", "GET", "/api/v4/personal_access_tokens/self",
                   token_check("gitlab", lambda r: r.headers.get("PRIVATE-TOKEN"), j(401, {"message": "401 Unauthorized"}))),
    "slack.com": ("slack", "POST", "/api/auth.test",
                  token_check("slack", bearer, j(200, {"ok": False, "error": "invalid_auth"}))),
    "api.stripe.com": ("stripe", "GET", "/v1/balance",
                       token_check("stripe", bearer, j(401, {"error": {"message": "Invalid API Key provided: sk_live_****", "type": "invalid_request_error"}}))),
    "api.openai.com": ("openai", "GET", "/v1/models",
                       token_check("openai", bearer, j(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}}))),
    "api.anthropic.com": ("anthropic", "GET", "/v1/models",
                          token_check("anthropic", lambda r: r.headers.get("x-api-key") if r.headers.get("anthropic-version") else None,
                                      j(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}))),
    "api.sendgrid.com": ("sendgrid", "GET", "/v3/scopes",
                         token_check("sendgrid", bearer, j(401, {"errors": [{"field": None, "message": "authorization required"}]}))),
    "api.twilio.com": ("twilio", "GET", None, twilio),
    "api.telegram.org": ("telegram", "GET", None, telegram),
    "huggingface.co": ("huggingface", "GET", "/api/whoami-v2",
                       token_check("huggingface", bearer, j(401, {"error": "Invalid credentials in Authorization header"}))),
    "api.digitalocean.com": ("digitalocean", "GET", "/v2/account",
                             token_check("digitalocean", bearer, j(401, {"id": "unauthorized", "message": "Unable to authenticate you."}))),
    "discord.com": ("discord", "GET", "/api/v10/users/@me",
                    token_check("discord", lambda r: r.headers.get("Authorization", "").removeprefix("Bot ") if r.headers.get("Authorization", "").startswith("Bot ") else None,
                                j(401, {"message": "401: Unauthorized", "code": 0}))),
    "registry.npmjs.org": ("npm", "GET", "/-/whoami",
                           token_check("npm", bearer, j(401, {"error": "Unauthorized"}))),
}


class Request:
    def __init__(self, handler, host, path_qs, body):
        self.method = handler.command
        self.headers = handler.headers
        self.host = host
        self.path_qs = path_qs
        self.path, _, self.query = path_qs.partition("?")
        self.body = body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def send(self, status, headers, body):
        data = body.encode()
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path == "/__stats":
            with LOCK:
                return self.send(200, {}, json.dumps(STATS))
        host, _, rest = self.path.lstrip("/").partition("/")
        route = ROUTES.get(host)
        if route is None:
            return self.send(404, {}, json.dumps({"error": "unknown host " + host}))
        provider, method, path, check = route
        req = Request(self, host, "/" + rest, body)
        with LOCK:
            STATS["requests"] += 1
            STATS["by_provider"][provider] = STATS["by_provider"].get(provider, 0) + 1
            STATS["in_flight"] += 1
            STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
            n = STATS["in_flight_by_provider"].get(provider, 0) + 1
            STATS["in_flight_by_provider"][provider] = n
            STATS["max_in_flight_by_provider"][provider] = max(STATS["max_in_flight_by_provider"].get(provider, 0), n)
            STATS["user_agents"].append(self.headers.get("User-Agent", ""))
            STATS["paths"].append(f"{req.method} {host}{req.path}")
        try:
            if DELAY:
                time.sleep(DELAY)
            answer = self.answer(provider, method, path, check, req)
        finally:
            # Done before the answer is sent: once the client has it, it may start the next
            # request, which must not be counted as overlapping this one.
            with LOCK:
                STATS["in_flight"] -= 1
                STATS["in_flight_by_provider"][provider] -= 1
        try:
            self.send(*answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def answer(self, provider, method, path, check, req):
        if req.method != method or (path is not None and req.path != path):
            return 405, {}, json.dumps({"error": f"{provider} stand-in serves only {method} {path}"})
        cred, failure = check(req)
        if cred is None:
            return failure
        with LOCK:
            i = str(CREDS.index(cred))
            STATS["by_cred"][i] = STATS["by_cred"].get(i, 0) + 1
        behavior = cred.get("behavior", "live")
        if behavior == "revoked":
            # Answered exactly as an unknown key would be.
            saved = cred["provider"]
            cred["provider"] = "-"
            try:
                return check(req)[1]
            finally:
                cred["provider"] = saved
        ident = (provider, cred["secret"])
        with LOCK:
            SEEN[ident] = SEEN.get(ident, 0) + 1
            seen = SEEN[ident]
        if behavior == "ratelimit" and seen == 1:
            return 429, {"Retry-After": "1"}, json.dumps({"error": "rate limited"})
        if behavior == "ratelimit-long":
            return 429, {"Retry-After": "3600"}, json.dumps({"error": "rate limited"})
        if behavior == "slow":
            time.sleep(SLOW)
        if behavior == "malformed":
            return 200, {"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>"
        return LIVE[provider](cred)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    # Ends with the test: it closes our stdin (or kills us) when done.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
