//! `keyleak rules list | test | show`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::Exit;
use crate::cli::args::{RulesCommand, RulesFormat};
use crate::cli::settings::{load_config, load_rules};
use keyleak::rules::{Rule, RuleSet, check};
use keyleak::scan::Engine;

/// Runs a `rules` subcommand.
pub fn run(cmd: &RulesCommand) -> Result<Exit> {
    match cmd {
        RulesCommand::List {
            config,
            json,
            format,
            tag,
            provider,
        } => {
            let format = if *json { RulesFormat::Json } else { *format };
            list(config.as_deref(), format, tag, provider)
        }
        RulesCommand::Test { files, config } => test(files, config.as_deref()),
        RulesCommand::Show { id, config } => show(id, config.as_deref()),
    }
}

fn rules_with(config: Option<&Path>) -> Result<RuleSet> {
    let cwd = std::env::current_dir().ok();
    let cfg = load_config(
        config,
        if config.is_some() {
            None
        } else {
            cwd.as_deref()
        },
    )?;
    load_rules(&cfg)
}

fn list(
    config: Option<&Path>,
    format: RulesFormat,
    tags: &[String],
    providers: &[String],
) -> Result<Exit> {
    let rules = rules_with(config)?;
    let selected: Vec<&Rule> = rules
        .rules()
        .iter()
        .filter(|r| tags.is_empty() || r.tags.iter().any(|t| tags.contains(t)))
        .filter(|r| {
            providers.is_empty()
                || providers
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&r.provider))
        })
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        RulesFormat::Json => {
            let v: Vec<serde_json::Value> = selected
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "provider": r.provider,
                        "severity": r.severity.as_str(), "confidence": r.confidence.as_str(),
                        "validator": r.validator.name(), "tags": r.tags,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        RulesFormat::Markdown => write!(out, "{}", catalogue(&selected))?,
        RulesFormat::Text => {
            let w = selected
                .iter()
                .map(|r| r.id.len())
                .max()
                .unwrap_or(2)
                .max(2);
            writeln!(
                out,
                "{:<w$}  {:<8}  {:<6}  {:<16}  NAME [TAGS]",
                "ID", "SEVERITY", "CONF", "VALIDATOR"
            )?;
            for r in &selected {
                writeln!(
                    out,
                    "{:<w$}  {:<8}  {:<6}  {:<16}  {} [{}]",
                    r.id,
                    r.severity.as_str(),
                    r.confidence.as_str(),
                    r.validator.name(),
                    r.name,
                    r.tags.join(", ")
                )?;
            }
            writeln!(out, "{} rules", selected.len())?;
        }
    }
    Ok(Exit::Clean)
}

/// The README's rule catalogue: one Markdown table row per provider (sorted by name,
/// case-insensitively), with its rule count and the names of what its rules detect.
fn catalogue(rules: &[&Rule]) -> String {
    let mut by_provider: std::collections::BTreeMap<String, (String, Vec<&Rule>)> =
        Default::default();
    for r in rules {
        by_provider
            .entry(r.provider.to_ascii_lowercase())
            .or_insert_with(|| (r.provider.clone(), Vec::new()))
            .1
            .push(r);
    }
    let mut s = format!(
        "{} rules for {} providers (`keyleak rules list --provider NAME` lists one provider's rules; `keyleak rules show ID` gives a rule's remediation).\n\n| provider | rules | what is detected |\n|---|---:|---|\n",
        rules.len(),
        by_provider.len()
    );
    for (provider, rs) in by_provider.values() {
        let mut names: Vec<&str> = Vec::new();
        for r in rs {
            if !names.contains(&r.name.as_str()) {
                names.push(&r.name);
            }
        }
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            provider.replace('|', "\\|"),
            rs.len(),
            names.join("; ").replace('|', "\\|")
        ));
    }
    s
}

fn test(files: &[PathBuf], config: Option<&Path>) -> Result<Exit> {
    let mut rules = rules_with(config)?;
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", f.display()))?;
        rules.add_file(f, &text).map_err(anyhow::Error::new)?;
    }
    let total = rules.len();
    let engine = Engine::new(rules);
    let failures = check::check(&engine);
    super::scan::print_rule_warnings(engine.rules());
    let mut err = std::io::stderr().lock();
    for f in &failures {
        writeln!(
            err,
            "FAIL {} ({}): {}",
            keyleak::escape::control(&f.rule_id),
            keyleak::escape::control(&f.origin.to_string()),
            keyleak::escape::control(&f.message)
        )?;
    }
    let failed: std::collections::BTreeSet<&str> =
        failures.iter().map(|f| f.rule_id.as_str()).collect();
    writeln!(
        std::io::stdout(),
        "{} passed, {} failed",
        total - failed.len(),
        failed.len()
    )?;
    Ok(if failures.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings(1)
    })
}

fn show(id: &str, config: Option<&Path>) -> Result<Exit> {
    let rules = rules_with(config)?;
    let Some(r) = rules.get(id) else {
        let hint = rules
            .nearest(id)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        anyhow::bail!("no rule with id `{id}` ({hint}see `keyleak rules list`)");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} — {}", r.id, r.name)?;
    writeln!(out, "  provider    {}", r.provider)?;
    writeln!(out, "  severity    {}", r.severity)?;
    writeln!(out, "  confidence  {}", r.confidence.as_str())?;
    writeln!(out, "  validator   {}", r.validator.name())?;
    if let Some(d) = r.detector {
        writeln!(out, "  detector    {}", d.name())?;
    }
    if !r.tags.is_empty() {
        writeln!(out, "  tags        {}", r.tags.join(", "))?;
    }
    if r.prefilter {
        writeln!(out, "  keywords    {}", r.keywords.join(", "))?;
    } else {
        writeln!(out, "  keywords    (none: runs on every input)")?;
    }
    if !r.pattern.is_empty() {
        writeln!(out, "  regex       {}", r.pattern)?;
    }
    if let Some(e) = r.entropy {
        writeln!(out, "  entropy     ≥ {e} bits/byte")?;
    }
    if let Some(c) = &r.credential {
        writeln!(
            out,
            "  credential  {c} ({})",
            r.part.as_deref().unwrap_or("?")
        )?;
    }
    writeln!(out, "  defined in  {}", r.origin)?;
    if !r.remediation.is_empty() {
        writeln!(
            out,
            "\nRemediation:\n  {}",
            r.remediation.replace('\n', "\n  ")
        )?;
    }
    if !r.references.is_empty() {
        writeln!(out, "\nReferences:")?;
        for u in &r.references {
            writeln!(out, "  {u}")?;
        }
    }
    Ok(Exit::Clean)
}
