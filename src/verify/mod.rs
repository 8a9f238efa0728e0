//! `--verify`: ask each credential's own provider whether it is live, and what it may do.
//!
//! Nothing here runs unless the user passes `--verify`. Each verifier makes one read-only
//! request to a host fixed in its [`Provider`] entry (never a call that places, cancels or
//! moves anything). Findings are grouped by credential (provider + every part's value), so a
//! secret found at 500 paths is asked about once; requests run on a small pool with a cap per
//! provider and overall, each with a timeout and at most one retry after an HTTP 429.
//!
//! Part of the "Verify" layer: it imports the model (findings) and nothing of the scan,
//! sources or reporters; reporters only read [`crate::finding::Verification`].

mod cloud;
mod exchanges;
mod http;
mod saas;
mod sign;

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::finding::{Finding, Verification, VerifyStatus};

pub use http::{TEST_BASE_URL_ENV, test_base_url};

/// The credential values a verifier receives, by part name (`secret`, `key`, `passphrase`, `uid`).
pub struct Creds {
    values: Vec<(String, String)>,
}

impl Creds {
    /// The value of part `name`, if the finding carries it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value, for scrubbing them out of error texts.
    fn all(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(_, v)| v.as_str())
    }
}

/// One provider's verifier: the rules it answers for, the one host it talks to, and the check.
pub struct Provider {
    /// Short name shown in outputs (`github`, `binance`…).
    pub name: &'static str,
    /// Rule ids whose findings it verifies.
    pub rules: &'static [&'static str],
    /// Parts the credential needs besides `secret` (`key`, `passphrase`…).
    pub needs: &'static [&'static str],
    /// The only host credentials are sent to (over TLS).
    pub host: &'static str,
    /// Method and path of the read-only request, for the README and `--verbose`.
    pub endpoint: &'static str,
    /// Does the request and reads the answer.
    pub check: fn(&http::Client, &Creds) -> Verification,
}

/// Every verifier.
pub fn providers() -> Vec<&'static Provider> {
    let mut all: Vec<&'static Provider> = Vec::new();
    all.extend(exchanges::PROVIDERS);
    all.extend(saas::PROVIDERS);
    all.extend(cloud::PROVIDERS);
    all
}

/// The verifier for `rule_id`, if any.
pub fn provider_for(rule_id: &str) -> Option<&'static Provider> {
    providers().into_iter().find(|p| p.rules.contains(&rule_id))
}

/// Limits for one verification run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per-request timeout (connect + TLS + answer).
    pub timeout: Duration,
    /// Requests in flight overall.
    pub concurrency: usize,
    /// Requests in flight to one provider.
    pub per_provider: usize,
    /// Longest `Retry-After` honoured before giving up on a 429.
    pub max_backoff: Duration,
    /// Loopback base URL of a stand-in server (tests only; see [`test_base_url`]).
    pub base_url: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(10),
            concurrency: 8,
            per_provider: 2,
            max_backoff: Duration::from_secs(10),
            base_url: None,
        }
    }
}

/// Totals of a verification run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Distinct credentials asked about (requests made, retries aside).
    pub checked: usize,
    /// Findings per status.
    pub live: usize,
    /// Findings the provider rejected.
    pub revoked: usize,
    /// Findings with no answer.
    pub error: usize,
    /// Findings no verifier covers.
    pub unsupported: usize,
}

struct Job {
    provider: &'static Provider,
    creds: Creds,
    findings: Vec<usize>,
}

/// Sets `verification` on every finding; one request per distinct credential.
pub fn verify(findings: &mut [Finding], opts: &Options) -> Summary {
    let mut jobs: Vec<Job> = Vec::new();
    let mut by_key: HashMap<[u8; 32], usize> = HashMap::new();
    for (i, f) in findings.iter_mut().enumerate() {
        let Some(provider) = provider_for(&f.rule_id) else {
            f.verification = Some(Verification::new(
                VerifyStatus::Unsupported,
                "",
                Some("no verifier for this rule".into()),
            ));
            continue;
        };
        let creds = creds_of(f);
        let missing: Vec<&str> = provider
            .needs
            .iter()
            .copied()
            .filter(|n| creds.get(n).is_none())
            .collect();
        if !missing.is_empty() {
            f.verification = Some(Verification::new(
                VerifyStatus::Unsupported,
                provider.name,
                Some(format!(
                    "incomplete credential: no {} found next to it",
                    missing.join(", ")
                )),
            ));
            continue;
        }
        let key = dedup_key(provider.name, &creds);
        match by_key.get(&key) {
            Some(&j) => jobs[j].findings.push(i),
            None => {
                by_key.insert(key, jobs.len());
                jobs.push(Job {
                    provider,
                    creds,
                    findings: vec![i],
                });
            }
        }
    }
    let client = http::Client::new(opts);
    let results = run_pool(&client, &jobs, opts);
    let mut summary = Summary {
        checked: jobs.len(),
        ..Summary::default()
    };
    for (job, result) in jobs.iter().zip(results) {
        for &i in &job.findings {
            findings[i].verification = Some(result.clone());
        }
    }
    for f in findings.iter() {
        match f.verification.as_ref().map(|v| v.status) {
            Some(VerifyStatus::Live) => summary.live += 1,
            Some(VerifyStatus::Revoked) => summary.revoked += 1,
            Some(VerifyStatus::Error) => summary.error += 1,
            _ => summary.unsupported += 1,
        }
    }
    summary
}

/// A finding's values: the lead secret, then each part (a part named `secret` wins over the
/// lead only if they differ, which grouping never produces).
fn creds_of(f: &Finding) -> Creds {
    let mut values = vec![("secret".to_string(), f.secret.reveal())];
    for p in &f.parts {
        if !values.iter().any(|(n, _)| n == &p.name) {
            values.push((p.name.clone(), p.value.reveal()));
        }
    }
    Creds { values }
}

fn dedup_key(provider: &str, creds: &Creds) -> [u8; 32] {
    let mut parts: Vec<&(String, String)> = creds.values.iter().collect();
    parts.sort();
    let mut h = Sha256::new();
    h.update(provider.as_bytes());
    for (n, v) in parts {
        h.update([0u8]);
        h.update(n.as_bytes());
        h.update([0u8]);
        h.update(v.as_bytes());
    }
    h.finalize().into()
}

/// Runs every job on at most `concurrency` threads, never more than `per_provider` requests
/// to one provider at once; results come back in job order.
fn run_pool(client: &http::Client, jobs: &[Job], opts: &Options) -> Vec<Verification> {
    struct State {
        next: Vec<usize>,
        in_flight: HashMap<&'static str, usize>,
        results: Vec<Option<Verification>>,
    }
    let state = Mutex::new(State {
        next: (0..jobs.len()).rev().collect(),
        in_flight: HashMap::new(),
        results: vec![None; jobs.len()],
    });
    let wake = Condvar::new();
    let per_provider = opts.per_provider.max(1);
    let workers = opts.concurrency.max(1).min(jobs.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    let j = loop {
                        if st.next.is_empty() {
                            return;
                        }
                        let pick = st.next.iter().rposition(|&j| {
                            st.in_flight
                                .get(jobs[j].provider.name)
                                .copied()
                                .unwrap_or(0)
                                < per_provider
                        });
                        match pick {
                            Some(pos) => break st.next.remove(pos),
                            None => st = wake.wait(st).unwrap_or_else(|e| e.into_inner()),
                        }
                    };
                    let name = jobs[j].provider.name;
                    *st.in_flight.entry(name).or_default() += 1;
                    drop(st);
                    let job = &jobs[j];
                    let mut v = (job.provider.check)(client, &job.creds);
                    v.provider = job.provider.name.to_string();
                    scrub(&mut v, &job.creds);
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    st.results[j] = Some(v);
                    *st.in_flight.entry(name).or_default() -= 1;
                    drop(st);
                    wake.notify_all();
                }
            });
        }
    });
    state
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Verification::new(VerifyStatus::Error, "", Some("not run".into())))
        })
        .collect()
}

/// Last line of defence: no text a provider or the network stack produced may carry a value
/// of the credential (a Telegram token sits in the URL path, for one).
fn scrub(v: &mut Verification, creds: &Creds) {
    let clean = |s: &mut String| {
        // Provider texts (team names, logins) reach terminals and annotations: no control
        // characters, and a bounded length.
        *s = s.chars().filter(|c| !c.is_control()).take(200).collect();
        for value in creds.all() {
            if value.len() >= 4 && s.contains(value) {
                *s = s.replace(value, &crate::finding::redact(value));
            }
        }
    };
    if let Some(r) = v.reason.as_mut() {
        clean(r);
    }
    if let Some(a) = v.account.as_mut() {
        clean(a);
    }
    for s in v.scopes.iter_mut() {
        clean(s);
    }
    v.scopes.truncate(50);
    if let Some(e) = v.expires.as_mut() {
        clean(e);
    }
}

/// Shorthand constructors used by the verifiers.
pub(crate) fn live() -> Verification {
    Verification::new(VerifyStatus::Live, "", None)
}

pub(crate) fn revoked(reason: impl Into<String>) -> Verification {
    Verification::new(VerifyStatus::Revoked, "", Some(reason.into()))
}

pub(crate) fn error(reason: impl Into<String>) -> Verification {
    Verification::new(VerifyStatus::Error, "", Some(reason.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_distinct_name_and_an_https_host() {
        let all = providers();
        assert!(all.len() >= 25, "{} verifiers", all.len());
        for (i, p) in all.iter().enumerate() {
            assert!(all[..i].iter().all(|q| q.name != p.name), "{}", p.name);
            assert!(!p.host.contains('/') && p.host.contains('.'), "{}", p.host);
            for r in p.rules {
                let owners = all.iter().filter(|q| q.rules.contains(r)).count();
                assert_eq!(owners, 1, "rule {r} has {owners} verifiers");
            }
        }
    }

    #[test]
    fn every_verified_rule_exists() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        for p in providers() {
            for r in p.rules {
                assert!(rules.get(r).is_some(), "{}: unknown rule {r}", p.name);
            }
        }
    }

    #[test]
    fn scrub_removes_every_value() {
        let creds = Creds {
            values: vec![
                ("secret".into(), "s3cr3tvalue123456".into()),
                ("key".into(), "keyvalue98765".into()),
            ],
        };
        let mut v = error("GET /bots3cr3tvalue123456/getMe with keyvalue98765 failed");
        scrub(&mut v, &creds);
        let r = v.reason.unwrap();
        assert!(
            !r.contains("s3cr3tvalue123456") && !r.contains("keyvalue98765"),
            "{r}"
        );
    }
}
