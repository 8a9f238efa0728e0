//! `-f html`: one self-contained page for people — totals, charts, a timeline and a sortable,
//! filterable table — that works offline and under a strict Content-Security-Policy.
//!
//! Everything shown comes from attacker-controlled input (paths, snippets, author names), so
//! every value goes through [`esc`]. The page loads nothing: its own CSP (`default-src 'none'`)
//! allows only the one inline style sheet and the one inline script, by their SHA-256, so even
//! an escaping mistake could not run a script or fetch a pixel. Charts are inline SVG drawn here,
//! not by script, and the table is plain HTML that the script only sorts and filters: without
//! JavaScript the report still reads.

use std::io::{self, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::Report;
use super::document::{Document, Month, SEVERITIES, first_sentence};
use super::json::{JsonFinding, JsonSkipped};

/// Writes `report` as one HTML page.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    super::document::write_with(report, w, render)
}

const STYLE: &str = r#"
:root{--c:#b3001b;--h:#e4572e;--m:#f0a202;--l:#2e86ab;--fg:#1d1d1f;--mut:#6b6b70;--bd:#d9d9de;--bg:#fafafa}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:24px}
h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 8px}
.mut{color:var(--mut)}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid var(--bd);border-radius:8px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:26px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px;align-items:start}
svg{max-width:100%;height:auto}
figure{background:#fff;border:1px solid var(--bd);border-radius:8px;margin:0;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
.bar{fill:#5b6c8f}.bar.head{fill:#b3001b}.sev-critical{fill:var(--c)}.sev-high{fill:var(--h)}.sev-medium{fill:var(--m)}.sev-low{fill:var(--l)}
.tag{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-weight:600;font-size:12px}
.tag.critical{background:var(--c)}.tag.high{background:var(--h)}.tag.medium{background:var(--m);color:#222}.tag.low{background:var(--l)}
.controls{display:flex;gap:8px;margin:8px 0}
input,select{font:inherit;padding:4px 8px;border:1px solid var(--bd);border-radius:6px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--bd)}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--bd)}
th{cursor:pointer;user-select:none;background:#f0f0f3;position:sticky;top:0}
td code{white-space:pre-wrap;word-break:break-all;font:12px ui-monospace,Menlo,Consolas,monospace}
tr[hidden]{display:none}
tr.sup td{opacity:.6}
span.head{color:var(--c);font-weight:600}
details summary{cursor:pointer;color:var(--mut)}
"#;

const SCRIPT: &str = r#"(function(){
var t=document.getElementById('findings'),b=t.tBodies[0],q=document.getElementById('q'),s=document.getElementById('sev'),n=document.getElementById('shown');
function apply(){var v=q.value.toLowerCase(),sv=s.value,c=0;
for(var i=0;i<b.rows.length;i++){var r=b.rows[i];var ok=(!sv||r.getAttribute('data-sev')===sv)&&(!v||r.textContent.toLowerCase().indexOf(v)>=0);r.hidden=!ok;if(ok)c++;}
n.textContent=String(c);}
q.addEventListener('input',apply);s.addEventListener('change',apply);
var dir={};
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){
var d=dir[i]=-(dir[i]||-1);var rows=Array.prototype.slice.call(b.rows);
function key(r){var c=r.cells[i];return c.hasAttribute('data-v')?c.getAttribute('data-v'):c.textContent;}
rows.sort(function(x,y){var a=key(x),c=key(y),na=Number(a),nc=Number(c);
if(a!==''&&c!==''&&!isNaN(na)&&!isNaN(nc))return (na-nc)*d;return a<c?-d:a>c?d:0;});
rows.forEach(function(r){b.appendChild(r);});});});
apply();document.body.setAttribute('data-ready','1');
})();"#;

/// `'sha256-…'` of an inline element's text, for the page's CSP.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Renders `doc` as one HTML page.
pub fn render(doc: &Document<'_>, w: &mut dyn Write) -> io::Result<()> {
    let reported = doc.reported().count();
    writeln!(w, "<!DOCTYPE html>")?;
    writeln!(w, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; img-src data:\">",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )?;
    writeln!(
        w,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        w,
        "<title>keyleak report: {reported} finding{}</title>",
        plural(reported)
    )?;
    writeln!(w, "<style>{STYLE}</style></head><body>")?;
    writeln!(w, "<header><h1>keyleak report</h1>")?;
    writeln!(
        w,
        "<p class=\"mut\">keyleak {} · {reported} finding{} · secrets are redacted unless the report was written with --show-secrets</p></header>",
        env!("CARGO_PKG_VERSION"),
        plural(reported)
    )?;

    writeln!(w, "<section><div class=\"cards\" id=\"totals\">")?;
    for (sev, n) in doc.by_severity() {
        writeln!(
            w,
            "<div class=\"card\"><b data-severity=\"{sev}\">{n}</b><span class=\"tag {sev}\">{sev}</span></div>"
        )?;
    }
    let suppressed = doc.findings.len() - reported;
    if suppressed > 0 {
        writeln!(
            w,
            "<div class=\"card\"><b>{suppressed}</b><span class=\"mut\">suppressed</span></div>"
        )?;
    }
    let at_head = doc.at_head();
    if at_head > 0 {
        writeln!(
            w,
            "<div class=\"card\" id=\"at-head\"><b>{at_head}</b><span class=\"mut\">still at HEAD</span></div>"
        )?;
    }
    if !doc.skipped.is_empty() {
        writeln!(
            w,
            "<div class=\"card\"><b>{}</b><span class=\"mut\">not scanned</span></div>",
            doc.skipped.len()
        )?;
    }
    writeln!(w, "</div></section>")?;

    writeln!(w, "<section class=\"charts\">")?;
    let sev: Vec<(&str, usize)> = doc.by_severity();
    bar_chart(w, "chart-severity", "Findings by severity", &sev, true)?;
    bar_chart(
        w,
        "chart-rule",
        "Findings by rule",
        &doc.count_by(|f| Some(f.rule_id.as_str())),
        false,
    )?;
    let repos = doc.count_by(|f| f.repository.as_deref());
    if !repos.is_empty() {
        bar_chart(
            w,
            "chart-repository",
            "Findings by repository",
            &repos,
            false,
        )?;
    }
    let months = doc.by_month();
    if !months.is_empty() {
        timeline(w, &months)?;
    }
    writeln!(w, "</section>")?;

    writeln!(w, "<section><h2>Findings</h2>")?;
    writeln!(
        w,
        "<div class=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"Filter (path, rule, author…)\" aria-label=\"Filter\"><select id=\"sev\" aria-label=\"Severity\"><option value=\"\">every severity</option>"
    )?;
    for s in SEVERITIES {
        writeln!(w, "<option value=\"{s}\">{s}</option>")?;
    }
    writeln!(
        w,
        "</select><span class=\"mut\"><span id=\"shown\">{}</span> shown</span></div>",
        doc.findings.len()
    )?;
    writeln!(
        w,
        "<table id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Secret and line</th><th>Commit</th><th>Fingerprint</th><th>Fix</th></tr></thead><tbody>"
    )?;
    for f in doc.findings {
        row(doc, f, w)?;
    }
    writeln!(w, "</tbody></table></section>")?;

    if !doc.notes.is_empty() {
        writeln!(w, "<section><h2>Warnings</h2><ul id=\"notes\">")?;
        for n in doc.notes {
            writeln!(w, "<li>{}</li>", esc(n))?;
        }
        writeln!(w, "</ul></section>")?;
    }
    if !doc.skipped.is_empty() {
        skipped_list(doc.skipped, w)?;
    }
    writeln!(w, "<script>{SCRIPT}</script></body></html>")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn severity_rank(s: &str) -> usize {
    SEVERITIES.len()
        - SEVERITIES
            .iter()
            .position(|x| *x == s)
            .unwrap_or(SEVERITIES.len())
}

fn row(doc: &Document<'_>, f: &JsonFinding, w: &mut dyn Write) -> io::Result<()> {
    let sev = esc(&f.severity);
    let class = if f.suppressed.is_some() {
        " class=\"sup\""
    } else {
        ""
    };
    write!(w, "<tr data-sev=\"{sev}\"{class}>")?;
    write!(
        w,
        "<td data-v=\"{}\"><span class=\"tag {sev}\">{sev}</span>",
        severity_rank(&f.severity)
    )?;
    if let Some(why) = &f.suppressed {
        write!(w, "<br><span class=\"mut\">suppressed: {}</span>", esc(why))?;
    }
    if f.known_public {
        write!(w, "<br><span class=\"mut\">known public test key</span>")?;
    }
    if let Some(v) = &f.verification {
        write!(
            w,
            "<br><span class=\"mut\">verified: {}</span>",
            esc(&v.summary())
        )?;
    }
    write!(
        w,
        "</td><td>{}<br><span class=\"mut\">{}</span></td>",
        esc(&f.rule_name),
        esc(&f.rule_id)
    )?;
    write!(w, "<td>")?;
    if let Some(repo) = &f.repository {
        write!(w, "<span class=\"mut\">{}</span><br>", esc(repo))?;
    }
    write!(w, "<code>{}:{}:{}</code>", esc(&f.path), f.line, f.column)?;
    if !f.decoded.is_empty() {
        write!(
            w,
            "<br><span class=\"mut\">decoded: {}</span>",
            esc(&f.decoded.join(" → "))
        )?;
    }
    write!(w, "</td><td><code>{}</code>", esc(&f.secret))?;
    for p in &f.parts {
        write!(
            w,
            "<br><span class=\"mut\">{}</span> <code>{}</code>",
            esc(&p.name),
            esc(&p.value)
        )?;
    }
    write!(w, "<br><code class=\"mut\">{}</code></td>", esc(&f.snippet))?;
    match (&f.commit, &f.date) {
        (Some(c), date) => write!(
            w,
            "<td data-v=\"{}\"><code>{}</code><br><span class=\"mut\">{}<br>{}</span>{}</td>",
            esc(date.as_deref().unwrap_or("")),
            esc(c.get(..12).unwrap_or(c)),
            esc(date.as_deref().unwrap_or("")),
            esc(f.author.as_deref().unwrap_or("")),
            match super::document::head_label(f.present_at_head) {
                Some(l) => format!("<br><span class=\"head\">{l}</span>"),
                None => String::new(),
            }
        )?,
        (None, _) => write!(w, "<td data-v=\"\"></td>")?,
    }
    write!(w, "<td><code>{}</code></td>", esc(&f.fingerprint))?;
    let fix = doc.fix(&f.rule_id);
    let first = first_sentence(fix);
    if first.len() < fix.len() {
        write!(
            w,
            "<td><details><summary>{}</summary>{}</details></td>",
            esc(first),
            esc(&fix[first.len()..])
        )?;
    } else {
        write!(w, "<td>{}</td>", esc(fix))?;
    }
    writeln!(w, "</tr>")
}

fn skipped_list(skipped: &[JsonSkipped], w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "<section><h2>Not scanned</h2><details><summary>{} input{} could not be scanned</summary><ul id=\"skipped\">",
        skipped.len(),
        plural(skipped.len())
    )?;
    for s in skipped {
        writeln!(
            w,
            "<li><code>{}</code>: {}</li>",
            esc(&s.path),
            esc(&s.reason)
        )?;
    }
    writeln!(w, "</ul></details></section>")
}

/// Horizontal bars, one per entry (at most 25; the rest are summed in one last bar).
fn bar_chart(
    w: &mut dyn Write,
    id: &str,
    caption: &str,
    data: &[(&str, usize)],
    by_severity: bool,
) -> io::Result<()> {
    const MAX_BARS: usize = 25;
    let mut bars: Vec<(String, usize)> = data
        .iter()
        .take(MAX_BARS)
        .map(|(k, n)| (k.to_string(), *n))
        .collect();
    if data.len() > MAX_BARS {
        let rest: usize = data[MAX_BARS..].iter().map(|(_, n)| n).sum();
        bars.push((format!("{} more", data.len() - MAX_BARS), rest));
    }
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (label_w, bar_w, h) = (170usize, 220usize, 22usize);
    let height = bars.len().max(1) * h + 4;
    let width = label_w + bar_w + 60;
    writeln!(
        w,
        "<figure id=\"{id}\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        esc(caption),
        esc(caption),
    )?;
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = i * h + 2;
        let len = (*n * bar_w).div_ceil(max).max(usize::from(*n > 0));
        let class = if by_severity {
            format!("sev-{}", esc(label))
        } else {
            "bar".to_string()
        };
        writeln!(
            w,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{len}\" height=\"{}\"><title>{}: {n}</title></rect><text x=\"{}\" y=\"{}\">{n}</text>",
            label_w - 6,
            y + 15,
            esc(&shorten(label, 30)),
            label_w,
            y + 3,
            h - 6,
            esc(label),
            label_w + len + 6,
            y + 15,
        )?;
    }
    writeln!(w, "</svg></figure>")
}

/// Vertical bars: leaks introduced per month of their commit's date, the part still in its file
/// at HEAD (to delete from the code as well as rotate) drawn apart at the bottom of each bar.
fn timeline(w: &mut dyn Write, months: &[Month<'_>]) -> io::Result<()> {
    let max = months.iter().map(|m| m.total).max().unwrap_or(1).max(1);
    let (plot_h, col_w) = (140usize, (560 / months.len().max(1)).clamp(3, 40));
    let width = months.len() * col_w + 20;
    writeln!(
        w,
        "<figure id=\"chart-timeline\"><figcaption>When the secrets were committed (per month; red: still at HEAD)</figcaption><svg role=\"img\" aria-label=\"Findings per month\" viewBox=\"0 0 {vw} {vh}\" width=\"{vw}\" height=\"{vh}\">",
        vw = width.max(200),
        vh = plot_h + 40
    )?;
    for (i, m) in months.iter().enumerate() {
        let bar_h = (m.total * plot_h).div_ceil(max);
        let head_h = (m.at_head * plot_h).div_ceil(max).min(bar_h);
        let x = 10 + i * col_w;
        let bw = col_w.saturating_sub(2).max(1);
        let (month, n, h) = (esc(m.month), m.total, m.at_head);
        writeln!(
            w,
            "<rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{bw}\" height=\"{bar_h}\"><title>{month}: {n} committed, {h} still at HEAD</title></rect>",
            10 + plot_h - bar_h,
        )?;
        if head_h > 0 {
            writeln!(
                w,
                "<rect class=\"bar head\" x=\"{x}\" y=\"{}\" width=\"{bw}\" height=\"{head_h}\"><title>{month}: {h} of {n} still at HEAD</title></rect>",
                10 + plot_h - head_h,
            )?;
        }
    }
    let first = months.first().map_or("", |m| m.month);
    let last = months.last().map_or("", |m| m.month);
    writeln!(
        w,
        "<text x=\"10\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></svg></figure>",
        plot_h + 30,
        esc(first),
        width.max(200) - 10,
        plot_h + 30,
        esc(last)
    )
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Escapes text for HTML element content and double- or single-quoted attributes; control
/// characters (which a file name or snippet may carry) become visible `\xNN` / `\u{…}`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push(' '),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<img src=x onerror='a'>&\"\u{1b}]52;\u{7}\u{202e}"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;\\x1B]52;\\x07\\u{202e}"
        );
    }

    #[test]
    fn csp_hash_is_base64_sha256() {
        // echo -n '' | sha256sum → e3b0c442…, base64 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
