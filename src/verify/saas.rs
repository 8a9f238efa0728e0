//! SaaS and AI token verifiers: one authenticated read of "who am I" or a list the token can
//! always read. A 401 (or the provider's own "invalid token" answer) means revoked.
//!
//! Sources: GitHub REST `GET /user` (docs.github.com; `X-OAuth-Scopes` header); GitLab
//! `GET /api/v4/personal_access_tokens/self` (docs.gitlab.com); Slack `auth.test`
//! (api.slack.com/methods/auth.test; `invalid_auth`, `token_revoked`…); Stripe
//! `GET /v1/balance` (docs.stripe.com/api/balance); OpenAI `GET /v1/models`
//! (platform.openai.com/docs/api-reference/models); Anthropic `GET /v1/models`
//! (docs.anthropic.com/en/api/models-list, `x-api-key` + `anthropic-version`); SendGrid
//! `GET /v3/scopes` (docs.sendgrid.com); Twilio `GET /2010-04-01/Accounts/{Sid}.json`
//! (twilio.com/docs/iam/api/account); Telegram Bot API `getMe` (core.telegram.org/bots/api);
//! Hugging Face `GET /api/whoami-v2`; DigitalOcean `GET /v2/account`
//! (docs.digitalocean.com/reference/api); Discord `GET /api/v10/users/@me` with `Bot` auth
//! (discord.com/developers/docs); npm `GET /-/whoami` (registry.npmjs.org).

use serde_json::Value;

use super::http::{Client, Req, Resp};
use super::{Creds, Provider, error, live, revoked};
use crate::finding::Verification;

pub static PROVIDERS: &[&Provider] = &[
    &GITHUB,
    &GITLAB,
    &SLACK,
    &STRIPE,
    &OPENAI,
    &ANTHROPIC,
    &SENDGRID,
    &TWILIO,
    &TELEGRAM,
    &HUGGINGFACE,
    &DIGITALOCEAN,
    &DISCORD,
    &NPM,
];

fn secret(c: &Creds) -> &str {
    c.get("secret").unwrap_or("")
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A bearer-token GET whose 200 means live and 401 revoked; `read` pulls details out of the body.
fn bearer_get(
    client: &Client,
    host: &'static str,
    path: &str,
    auth: &dyn Fn() -> Vec<(&'static str, String)>,
    read: &dyn Fn(&Resp) -> Option<Verification>,
) -> Verification {
    let resp = match client.send(|| {
        let mut r = Req::get(host, path);
        for (k, v) in auth() {
            r = r.header(k, v);
        }
        r
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    match resp.status {
        200 => read(&resp).unwrap_or_else(|| error("malformed answer")),
        401 => revoked("the provider rejected the token (HTTP 401)"),
        403 => {
            // Authenticated but not allowed this read: the token exists.
            let mut v = live();
            v.reason = Some("token accepted but lacks permission for the check (HTTP 403)".into());
            v
        }
        s => error(format!("unexpected answer (HTTP {s})")),
    }
}

fn bearer(c: &Creds) -> Vec<(&'static str, String)> {
    vec![("Authorization", format!("Bearer {}", secret(c)))]
}

macro_rules! provider {
    ($id:ident, $name:literal, [$($rule:literal),*], $host:literal, $endpoint:literal, $check:ident) => {
        pub static $id: Provider = Provider {
            name: $name,
            rules: &[$($rule),*],
            needs: &[],
            host: $host,
            endpoint: $endpoint,
            check: $check,
        };
    };
}

provider!(
    GITHUB,
    "github",
    [
        "github-pat",
        "github-oauth-token",
        "github-user-to-server-token",
        "github-fine-grained-pat"
    ],
    "api.github.com",
    "GET /user",
    github
);

fn github(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        GITHUB.host,
        "/user",
        &|| {
            vec![
                ("Authorization", format!("Bearer {}", secret(c))),
                ("Accept", "application/vnd.github+json".into()),
                ("X-GitHub-Api-Version", "2022-11-28".into()),
            ]
        },
        &|r| {
            let b = r.json();
            let mut v = live();
            v.account = Some(text(&b["login"])?);
            v.scopes = r
                .header("x-oauth-scopes")
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            v.expires = r
                .header("github-authentication-token-expiration")
                .map(String::from);
            Some(v)
        },
    )
}

provider!(
    GITLAB,
    "gitlab",
    ["gitlab-pat"],
    "gitlab.com",
    "GET /api/v4/personal_access_tokens/self",
    gitlab
);

fn gitlab(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        GITLAB.host,
        "/api/v4/personal_access_tokens/self",
        &|| vec![("PRIVATE-TOKEN", secret(c).to_string())],
        &|r| {
            let b = r.json();
            if b["revoked"].as_bool() == Some(true) || b["active"].as_bool() == Some(false) {
                return Some(revoked("the token is revoked or expired"));
            }
            let mut v = live();
            v.account = Some(format!("user {}", text(&b["user_id"])?));
            v.scopes = strings(&b["scopes"]);
            v.expires = text(&b["expires_at"]);
            Some(v)
        },
    )
}

provider!(
    SLACK,
    "slack",
    ["slack-bot-token", "slack-user-token", "slack-legacy-token"],
    "slack.com",
    "POST /api/auth.test",
    slack
);

fn slack(client: &Client, c: &Creds) -> Verification {
    let resp = match client.send(|| {
        Req::post(SLACK.host, "/api/auth.test", "")
            .header("Authorization", format!("Bearer {}", secret(c)))
            .header("Content-Type", "application/x-www-form-urlencoded")
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match b["ok"].as_bool() {
        Some(true) => {
            let mut v = live();
            v.account = match (text(&b["team"]), text(&b["user"])) {
                (Some(t), Some(u)) => Some(format!("{u} in {t}")),
                (t, u) => u.or(t),
            };
            v.scopes = resp
                .header("x-oauth-scopes")
                .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
                .unwrap_or_default();
            v
        }
        Some(false) => match b["error"].as_str().unwrap_or("") {
            e @ ("invalid_auth" | "token_revoked" | "token_expired" | "account_inactive"
            | "not_authed") => revoked(format!("Slack says `{e}`")),
            "ratelimited" => error("rate limited"),
            _ => error("unexpected answer from Slack"),
        },
        None => error(format!("unexpected answer (HTTP {})", resp.status)),
    }
}

provider!(
    STRIPE,
    "stripe",
    [
        "stripe-live-secret-key",
        "stripe-restricted-key",
        "stripe-test-secret-key"
    ],
    "api.stripe.com",
    "GET /v1/balance",
    stripe
);

fn stripe(client: &Client, c: &Creds) -> Verification {
    bearer_get(client, STRIPE.host, "/v1/balance", &|| bearer(c), &|r| {
        let b = r.json();
        if b["object"].as_str() != Some("balance") {
            return None;
        }
        let mut v = live();
        v.scopes = vec![if b["livemode"].as_bool() == Some(true) {
            "livemode".into()
        } else {
            "testmode".into()
        }];
        Some(v)
    })
}

provider!(
    OPENAI,
    "openai",
    ["openai-api-key", "openai-api-key-legacy"],
    "api.openai.com",
    "GET /v1/models",
    openai
);

fn model_list(r: &Resp) -> Option<Verification> {
    r.json()["data"].as_array()?;
    Some(live())
}

fn openai(client: &Client, c: &Creds) -> Verification {
    bearer_get(client, OPENAI.host, "/v1/models", &|| bearer(c), &|r| {
        let mut v = model_list(r)?;
        v.account = r.header("openai-organization").map(String::from);
        Some(v)
    })
}

provider!(
    ANTHROPIC,
    "anthropic",
    ["anthropic-api-key"],
    "api.anthropic.com",
    "GET /v1/models",
    anthropic
);

fn anthropic(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        ANTHROPIC.host,
        "/v1/models",
        &|| {
            vec![
                ("x-api-key", secret(c).to_string()),
                ("anthropic-version", "2023-06-01".into()),
            ]
        },
        &model_list,
    )
}

provider!(
    SENDGRID,
    "sendgrid",
    ["sendgrid-api-key"],
    "api.sendgrid.com",
    "GET /v3/scopes",
    sendgrid
);

fn sendgrid(client: &Client, c: &Creds) -> Verification {
    bearer_get(client, SENDGRID.host, "/v3/scopes", &|| bearer(c), &|r| {
        let b = r.json();
        let mut v = live();
        b["scopes"].as_array()?;
        v.scopes = strings(&b["scopes"]);
        Some(v)
    })
}

pub static TWILIO: Provider = Provider {
    name: "twilio",
    rules: &["twilio-auth-token"],
    needs: &["uid"],
    host: "api.twilio.com",
    endpoint: "GET /2010-04-01/Accounts/{AccountSid}.json",
    check: twilio,
};

fn twilio(client: &Client, c: &Creds) -> Verification {
    use base64::Engine as _;
    let sid = c.get("uid").unwrap_or("");
    if !sid.starts_with("AC") || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return revoked("the account SID is malformed");
    }
    // An API key SID (SK…) authenticates with the secret in place of the account's own token.
    let user = c.get("key").unwrap_or(sid);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", secret(c)));
    bearer_get(
        client,
        TWILIO.host,
        &format!("/2010-04-01/Accounts/{sid}.json"),
        &|| vec![("Authorization", format!("Basic {basic}"))],
        &|r| {
            let b = r.json();
            let status = b["status"].as_str()?;
            if status == "closed" {
                return Some(revoked("the account is closed"));
            }
            let mut v = live();
            v.account = text(&b["friendly_name"]).or_else(|| text(&b["sid"]));
            v.scopes = vec![format!("status {status}")];
            Some(v)
        },
    )
}

provider!(
    TELEGRAM,
    "telegram",
    ["telegram-bot-token"],
    "api.telegram.org",
    "GET /bot{token}/getMe",
    telegram
);

fn telegram(client: &Client, c: &Creds) -> Verification {
    let token = secret(c);
    // The Bot API takes the token in the path; refuse anything that could change the path.
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'_' || b == b'-')
    {
        return revoked("not a bot token");
    }
    let resp = match client.send(|| Req::get(TELEGRAM.host, format!("/bot{token}/getMe"))) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let b = resp.json();
    match (resp.status, b["ok"].as_bool()) {
        (200, Some(true)) => {
            let mut v = live();
            v.account = text(&b["result"]["username"]).map(|u| format!("@{u}"));
            v
        }
        (401 | 404, _) => revoked(format!(
            "the provider rejected the token (HTTP {})",
            resp.status
        )),
        (s, _) => error(format!("unexpected answer (HTTP {s})")),
    }
}

provider!(
    HUGGINGFACE,
    "huggingface",
    ["huggingface-token"],
    "huggingface.co",
    "GET /api/whoami-v2",
    huggingface
);

fn huggingface(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        HUGGINGFACE.host,
        "/api/whoami-v2",
        &|| bearer(c),
        &|r| {
            let b = r.json();
            let mut v = live();
            v.account = Some(text(&b["name"])?);
            if let Some(role) = text(&b["auth"]["accessToken"]["role"]) {
                v.scopes = vec![role];
            }
            Some(v)
        },
    )
}

provider!(
    DIGITALOCEAN,
    "digitalocean",
    ["digitalocean-token"],
    "api.digitalocean.com",
    "GET /v2/account",
    digitalocean
);

fn digitalocean(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        DIGITALOCEAN.host,
        "/v2/account",
        &|| bearer(c),
        &|r| {
            let b = r.json();
            let a = &b["account"];
            let mut v = live();
            v.account = Some(text(&a["email"]).or_else(|| text(&a["uuid"]))?);
            if let Some(s) = text(&a["status"]) {
                v.scopes = vec![format!("status {s}")];
            }
            Some(v)
        },
    )
}

provider!(
    DISCORD,
    "discord",
    ["discord-bot-token"],
    "discord.com",
    "GET /api/v10/users/@me",
    discord
);

fn discord(client: &Client, c: &Creds) -> Verification {
    bearer_get(
        client,
        DISCORD.host,
        "/api/v10/users/@me",
        &|| vec![("Authorization", format!("Bot {}", secret(c)))],
        &|r| {
            let b = r.json();
            let mut v = live();
            v.account = Some(text(&b["username"]).or_else(|| text(&b["id"]))?);
            Some(v)
        },
    )
}

provider!(
    NPM,
    "npm",
    ["npm-access-token"],
    "registry.npmjs.org",
    "GET /-/whoami",
    npm
);

fn npm(client: &Client, c: &Creds) -> Verification {
    bearer_get(client, NPM.host, "/-/whoami", &|| bearer(c), &|r| {
        let mut v = live();
        v.account = Some(text(&r.json()["username"])?);
        Some(v)
    })
}
