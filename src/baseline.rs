//! Reads a previous keyleak JSON, JSONL or SARIF report and returns its fingerprints, so
//! findings already accepted are not reported again.

use std::collections::HashSet;
use std::path::Path;

use crate::error::LoadError;

/// Fingerprints found in the report at `path`.
pub fn load(path: &Path) -> Result<HashSet<String>, LoadError> {
    let text = crate::policy_file::read(path, crate::policy_file::Origin::User)?;
    parse(path, &text)
}

/// Fingerprints in report text (JSON document, JSONL or SARIF).
pub fn parse(path: &Path, text: &str) -> Result<HashSet<String>, LoadError> {
    let mut out = HashSet::new();
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(out);
    }
    let docs: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => vec![v],
        Err(whole_err) => {
            // JSONL: one finding per line.
            let mut v = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let doc = serde_json::from_str(line).map_err(|_| LoadError {
                    file: path.to_path_buf(),
                    pos: Some(crate::error::Pos { line: whole_err.line(), column: whole_err.column() }),
                    message: format!(
                        "not a keyleak JSON, JSONL or SARIF report ({whole_err}; line {} is not JSON either)",
                        i + 1
                    ),
                })?;
                v.push(doc);
            }
            v
        }
    };
    for doc in &docs {
        collect(doc, &mut out);
    }
    if out.is_empty() && !looks_like_report(&docs) {
        return Err(LoadError::whole(
            path,
            "not a keyleak JSON, JSONL or SARIF report (no findings or results)",
        ));
    }
    Ok(out)
}

fn looks_like_report(docs: &[serde_json::Value]) -> bool {
    docs.iter()
        .any(|d| d.get("findings").is_some() || d.get("runs").is_some())
}

fn collect(doc: &serde_json::Value, out: &mut HashSet<String>) {
    let add = |v: Option<&serde_json::Value>, out: &mut HashSet<String>| {
        if let Some(s) = v.and_then(|v| v.as_str()) {
            out.insert(s.to_string());
        }
    };
    if let Some(fs) = doc.get("findings").and_then(|f| f.as_array()) {
        for f in fs {
            add(f.get("fingerprint"), out);
        }
    }
    add(doc.get("fingerprint"), out);
    if let Some(runs) = doc.get("runs").and_then(|r| r.as_array()) {
        for run in runs {
            for res in run
                .get("results")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(pf) = res.get("partialFingerprints").and_then(|p| p.as_object()) {
                    for v in pf.values() {
                        add(Some(v), out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_format() {
        let p = Path::new("b.json");
        let json = r#"{"version":"0.1.0","findings":[{"fingerprint":"aa"},{"fingerprint":"bb"}]}"#;
        let jsonl = "{\"fingerprint\":\"aa\"}\n{\"fingerprint\":\"cc\"}\n";
        let sarif =
            r#"{"runs":[{"results":[{"partialFingerprints":{"keyleakFingerprint/v1":"dd"}}]}]}"#;
        assert_eq!(parse(p, json).unwrap().len(), 2);
        assert!(parse(p, jsonl).unwrap().contains("cc"));
        assert!(parse(p, sarif).unwrap().contains("dd"));
        assert!(parse(p, r#"{"findings":[]}"#).unwrap().is_empty());
        assert!(parse(p, "not json").is_err());
        assert!(parse(p, r#"{"hello":1}"#).is_err());
    }
}
