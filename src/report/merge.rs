//! `keyleak merge`: shard reports → the report one run over everything would have written.
//!
//! Shards partition the inputs (`--shard K/N`), so the union of their findings is the single
//! run's set; what merging must restore is the order and the shared parts. JSON and JSONL
//! findings are re-sorted with the scan's own order (path, line, column, rule id, commit;
//! reported findings before suppressed ones), skipped inputs are re-sorted, and notes (which
//! every shard of one repository repeats, e.g. a shallow-clone warning) are kept once, in the
//! order first seen. SARIF logs are merged as SARIF: rule descriptors are united and re-indexed
//! by id, results re-sorted the same way, notifications united, and the invocation's totals
//! summed (each shard counts only its share of the commits it walks).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::json::{JsonFinding, JsonReport, JsonSkipped};

/// What one input report turned out to be.
#[derive(Debug)]
pub enum Shard {
    /// A JSON document.
    Json(JsonReport),
    /// JSONL lines (findings only: no skipped inputs or notes).
    Jsonl(JsonReport),
    /// A SARIF log.
    Sarif(Value),
}

/// Why an input cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Not a keyleak JSON, JSONL or SARIF report.
    #[error("{0}: not a keyleak JSON, JSONL or SARIF report ({1})")]
    Unreadable(String, String),
    /// JSON and SARIF mixed, or reports from different keyleak versions.
    #[error("{0}")]
    Mismatch(String),
}

/// Recognises and parses one report's text. `name` is only for messages.
pub fn parse(name: &str, text: &str) -> Result<Shard, MergeError> {
    let bad = |e: String| MergeError::Unreadable(name.to_string(), e);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        // An empty JSONL file: a shard without findings.
        return Ok(Shard::Jsonl(JsonReport {
            version: String::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
        }));
    }
    // A JSON document is one value; JSONL is several (or one finding object).
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let first = values
        .next()
        .ok_or_else(|| bad("empty".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let more = values.next();
    if more.is_none() {
        if first.get("runs").is_some() {
            return Ok(Shard::Sarif(first));
        }
        if first.get("findings").is_some() {
            return serde_json::from_value(first)
                .map(Shard::Json)
                .map_err(|e| bad(e.to_string()));
        }
    }
    let mut findings = Vec::new();
    for v in std::iter::once(Ok(first)).chain(more).chain(values) {
        let v = v.map_err(|e| bad(e.to_string()))?;
        findings.push(serde_json::from_value::<JsonFinding>(v).map_err(|e| bad(e.to_string()))?);
    }
    Ok(Shard::Jsonl(JsonReport {
        version: String::new(),
        findings,
        skipped: Vec::new(),
        notes: Vec::new(),
    }))
}

/// The scan's order for JSON findings: reported before suppressed, then path, line, column,
/// rule id, commit.
fn finding_order(a: &JsonFinding, b: &JsonFinding) -> Ordering {
    let key = |f: &JsonFinding| {
        (
            f.suppressed.is_some(),
            f.repository.clone(),
            f.path.clone(),
            f.line,
            f.column,
            f.rule_id.clone(),
            f.commit.clone(),
        )
    };
    key(a).cmp(&key(b))
}

/// Keeps the first of each value, in order.
fn unique_in_order<T: Clone + Eq + std::hash::Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|x| seen.insert(x.clone()))
        .collect()
}

/// Merges JSON/JSONL reports.
pub fn merge_json(shards: Vec<JsonReport>) -> Result<JsonReport, MergeError> {
    let versions: Vec<&str> = unique_in_order(
        shards
            .iter()
            .map(|s| s.version.as_str())
            .filter(|v| !v.is_empty()),
    );
    if versions.len() > 1 {
        return Err(MergeError::Mismatch(format!(
            "the reports come from different keyleak versions ({}): their rule sets differ, so \
             their union is not one scan's result",
            versions.join(", ")
        )));
    }
    let version = versions
        .first()
        .map_or(env!("CARGO_PKG_VERSION"), |v| v)
        .to_string();
    let mut findings = Vec::new();
    let mut skipped: Vec<JsonSkipped> = Vec::new();
    let mut notes = Vec::new();
    for s in shards {
        findings.extend(s.findings);
        skipped.extend(s.skipped);
        notes.extend(s.notes);
    }
    findings.sort_by(finding_order);
    skipped.sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
    skipped.dedup_by(|a, b| a.path == b.path && a.reason == b.reason);
    Ok(JsonReport {
        version,
        findings,
        skipped,
        notes: unique_in_order(notes),
    })
}

/// Merges SARIF logs (each with one keyleak run).
pub fn merge_sarif(logs: Vec<Value>) -> Result<Value, MergeError> {
    let mut template: Option<Value> = None;
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results: Vec<Value> = Vec::new();
    let mut skipped: Vec<Value> = Vec::new();
    let mut notes: Vec<Value> = Vec::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for mut log in logs {
        let runs = log["runs"]
            .as_array_mut()
            .filter(|r| r.len() == 1)
            .ok_or_else(|| {
                MergeError::Mismatch("a SARIF log to merge must have exactly one run".into())
            })?;
        let mut run = runs.remove(0);
        let descriptors = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for mut r in run["results"].as_array().cloned().unwrap_or_default() {
            let idx = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
            if let Some(d) = descriptors.get(idx) {
                let id = d["id"].as_str().unwrap_or_default().to_string();
                rules.entry(id).or_insert_with(|| d.clone());
            }
            if let Some(obj) = r.as_object_mut() {
                obj.remove("ruleIndex");
            }
            results.push(r);
        }
        let inv = &run["invocations"][0];
        for n in inv["toolExecutionNotifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let text = n["message"]["text"].as_str().unwrap_or_default();
            if text.starts_with("skipped ") {
                skipped.push(n);
            } else {
                notes.push(n);
            }
        }
        if let Some(props) = inv["properties"].as_object() {
            for (k, v) in props {
                *totals.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
            }
        }
        if template.is_none() {
            run["results"] = Value::Array(Vec::new());
            template = Some(run);
        }
    }
    let mut run = template.ok_or_else(|| MergeError::Mismatch("no SARIF log to merge".into()))?;

    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    results.sort_by_cached_key(result_key);
    for r in &mut results {
        let id = r["ruleId"].as_str().unwrap_or_default();
        if let (Some(i), Some(obj)) = (index.get(id).copied(), r.as_object_mut()) {
            obj.insert("ruleIndex".into(), Value::from(i as u64));
        }
    }
    run["tool"]["driver"]["rules"] = Value::Array(rules.values().cloned().collect());
    run["results"] = Value::Array(results);

    skipped.sort_by_cached_key(|n| {
        (
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .map(uri_path)
                .unwrap_or_default(),
            n["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    });
    skipped.dedup();
    let mut notifications = skipped;
    notifications.extend(
        unique_in_order(notes.into_iter().map(|n| n.to_string()))
            .iter()
            .filter_map(|s| serde_json::from_str::<Value>(s).ok()),
    );
    let inv = &mut run["invocations"][0];
    if notifications.is_empty() {
        if let Some(obj) = inv.as_object_mut() {
            obj.remove("toolExecutionNotifications");
        }
    } else {
        inv["toolExecutionNotifications"] = Value::Array(notifications);
    }
    if let Some(props) = inv["properties"].as_object_mut() {
        for (k, v) in totals {
            // A shard that walked commits but owned none of them wrote no `commits`.
            if k != "commits" || v > 0 {
                props.insert(k, Value::from(v));
            }
        }
    }
    Ok(serde_json::json!({
        "$schema": super::sarif::SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    }))
}

/// The scan's order, read back from a SARIF result.
fn result_key(r: &Value) -> (bool, Option<String>, String, u64, u64, String, String) {
    let loc = &r["locations"][0]["physicalLocation"];
    (
        r.get("suppressions").is_some(),
        r["properties"]["repository"].as_str().map(str::to_string),
        loc["artifactLocation"]["uri"]
            .as_str()
            .map(uri_path)
            .unwrap_or_default(),
        loc["region"]["startLine"].as_u64().unwrap_or(0),
        loc["region"]["startColumn"].as_u64().unwrap_or(0),
        r["ruleId"].as_str().unwrap_or_default().to_string(),
        r["properties"]["commit"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The display path a location URI was made from (`sarif::path_to_uri` in reverse).
pub(crate) fn uri_path(uri: &str) -> String {
    let rest = uri.strip_prefix("file://").unwrap_or(uri);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = rest
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_round_trip() {
        for p in ["a b/c%d.txt", "ключ.txt", "x:y/z", "/abs/p q"] {
            let (uri, _) = crate::report::sarif::path_to_uri(p);
            assert_eq!(uri_path(&uri), p);
        }
    }

    #[test]
    fn jsonl_and_json_are_recognised() {
        assert!(matches!(parse("a", "{\"runs\":[]}"), Ok(Shard::Sarif(_))));
        assert!(matches!(
            parse("a", "{\"version\":\"1\",\"findings\":[]}"),
            Ok(Shard::Json(_))
        ));
        assert!(matches!(parse("a", ""), Ok(Shard::Jsonl(_))));
        assert!(parse("a", "{\"x\":1}\n{\"y\":2}").is_err());
        assert!(parse("a", "not json").is_err());
    }
}
