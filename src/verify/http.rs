//! The one HTTP client verifiers use: fixed hosts over verified TLS, a timeout per request,
//! no redirects (a credential never follows a `Location` to another host), one retry after a
//! 429, and error texts that never carry the URL (some providers take the token in the path).

use std::time::Duration;

use super::Options;

/// Names a loopback stand-in server that receives every verification request instead of the
/// providers (tests and benchmarks only). Anything but an `http://` loopback address is refused.
pub const TEST_BASE_URL_ENV: &str = "KEYLEAK_VERIFY_TEST_BASE_URL";

/// The stand-in base URL from [`TEST_BASE_URL_ENV`], checked to be loopback; `Ok(None)` when unset.
pub fn test_base_url() -> Result<Option<String>, String> {
    let Some(raw) = std::env::var_os(TEST_BASE_URL_ENV) else {
        return Ok(None);
    };
    let raw = raw.to_string_lossy().trim_end_matches('/').to_string();
    let refuse = || {
        format!(
            "{TEST_BASE_URL_ENV}: only an http:// loopback address (127.0.0.1, [::1]) is accepted, got `{raw}`"
        )
    };
    let rest = raw.strip_prefix("http://").ok_or_else(refuse)?;
    if rest.contains(['/', '@', '?', '#']) {
        return Err(refuse());
    }
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        rest.rsplit_once(':').map_or(rest, |(h, _)| h)
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(Some(raw)),
        _ => Err(refuse()),
    }
}

/// One request. `host` is the provider's fixed host; `path` includes the query string.
pub struct Req {
    pub method: &'static str,
    pub host: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl Req {
    pub fn get(host: &'static str, path: impl Into<String>) -> Req {
        Req {
            method: "GET",
            host,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post(host: &'static str, path: impl Into<String>, body: impl Into<String>) -> Req {
        Req {
            method: "POST",
            host,
            path: path.into(),
            headers: Vec::new(),
            body: Some(body.into()),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Req {
        self.headers.push((name, value.into()));
        self
    }
}

/// A response: status, headers (names lowercase) and at most 1 MiB of body.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

const MAX_BODY: u64 = 1 << 20;

pub struct Client {
    agent: ureq::Agent,
    base_url: Option<String>,
    max_backoff: Duration,
}

impl Client {
    pub fn new(opts: &Options) -> Client {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!(
                "keyleak/",
                env!("CARGO_PKG_VERSION"),
                " (secret verification, read-only; https://github.com/keyleak/keyleak)"
            ));
        if opts.base_url.is_some() {
            // The stand-in is plain HTTP on loopback: no proxy in between.
            config = config.proxy(None);
        } else {
            config = config.https_only(true);
        }
        Client {
            agent: config.build().into(),
            base_url: opts.base_url.clone(),
            max_backoff: opts.max_backoff,
        }
    }

    /// Sends the request `build` makes (called again for the retry, so signatures and
    /// timestamps are fresh); one retry after a 429 whose back-off fits in the budget.
    pub fn send(&self, mut build: impl FnMut() -> Req) -> Result<Resp, String> {
        let first = self.send_once(&build())?;
        if first.status != 429 {
            return Ok(first);
        }
        let wait = retry_after(&first).unwrap_or(Duration::from_secs(1));
        if wait > self.max_backoff {
            return Err(format!(
                "rate limited (HTTP 429, retry after {}s)",
                wait.as_secs()
            ));
        }
        std::thread::sleep(wait);
        let second = self.send_once(&build())?;
        if second.status == 429 {
            return Err("rate limited (HTTP 429 twice)".into());
        }
        Ok(second)
    }

    fn send_once(&self, req: &Req) -> Result<Resp, String> {
        let url = match &self.base_url {
            Some(base) => format!("{base}/{}{}", req.host, req.path),
            None => format!("https://{}{}", req.host, req.path),
        };
        let result = match req.method {
            "POST" => {
                let mut b = self.agent.post(&url);
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                b.send(req.body.clone().unwrap_or_default().as_bytes())
            }
            _ => {
                let mut b = self.agent.get(&url);
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                b.call()
            }
        };
        let mut resp = result.map_err(|e| describe(&e, req.host))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| describe(&e, req.host))?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as unknown).
fn retry_after(resp: &Resp) -> Option<Duration> {
    let v = resp.header("retry-after")?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// A short reason naming the host but never the URL, headers or body.
fn describe(e: &ureq::Error, host: &str) -> String {
    use ureq::Error as E;
    let what = match e {
        E::Timeout(_) => "timed out".to_string(),
        E::HostNotFound => "host not found".to_string(),
        E::ConnectionFailed => "connection failed".to_string(),
        E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => "timed out".to_string(),
        E::Io(io) => format!("network error ({:?})", io.kind()),
        E::Tls(_) | E::Rustls(_) => "TLS error (certificate not verified)".to_string(),
        E::BodyExceedsLimit(_) => "response too large".to_string(),
        E::TooManyRedirects | E::RedirectFailed => "unexpected redirect".to_string(),
        E::Protocol(_) | E::LargeResponseHeader(..) => "malformed HTTP response".to_string(),
        E::RequireHttpsOnly(_) => "refused a non-HTTPS URL".to_string(),
        _ => "request failed".to_string(),
    };
    format!("{host}: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_base_urls_are_accepted() {
        // The environment is process-wide; this test is the only one touching this variable.
        let check = |v: &str| {
            // SAFETY: no other thread of the unit tests reads or writes this variable.
            unsafe { std::env::set_var(TEST_BASE_URL_ENV, v) };
            let r = test_base_url();
            unsafe { std::env::remove_var(TEST_BASE_URL_ENV) };
            r
        };
        assert_eq!(
            check("http://127.0.0.1:8080/").unwrap().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(check("http://[::1]:9").unwrap().is_some());
        for bad in [
            "https://api.github.com",
            "http://api.github.com",
            "http://10.0.0.1:80",
            "http://127.0.0.1.evil.example:80",
            "http://127.0.0.1:80@evil.example",
            "http://localhost:80",
            "http://127.0.0.1:80/path",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
