//! `cargo bench --bench scan [FILE]`: single-thread throughput of the keyword prefilter and of
//! the whole engine over one buffer (FILE, default: a generated mix of code and configs).
//! The prefilter is also timed with the built-in keywords padded to 300, 1,000 and 3,000 by
//! synthetic provider-like keywords (`qv7rxt_`, `zunmek-`…), to show how it scales with rules.
//! For whole-tree and whole-history figures against peers, see `bench/run`.

use std::time::Instant;

use keyleak::rules::RuleSet;
use keyleak::scan::Engine;
use keyleak::scan::keywords::Keywords;

fn generated() -> Vec<u8> {
    let lines = [
        "static int foo_probe(struct device *dev, unsigned long flags)\n",
        "{\n\tstruct foo_priv *priv = dev_get_drvdata(dev);\n",
        "\tif (!priv->base_addr) /* no register window mapped yet */\n\t\treturn -ENODEV;\n",
        "  \"name\": \"example-package\", \"version\": \"1.2.3\", \"license\": \"MIT\",\n",
        "database:\n  host: localhost\n  port: 5432\n  user: app\n",
        "def compute_checksum(data: bytes) -> int:\n    return sum(data) & 0xFFFF\n",
        "    let token_count = tokens.iter().filter(|t| t.is_keyword()).count();\n",
    ];
    let mut out = Vec::new();
    let mut i = 0usize;
    while out.len() < 64 << 20 {
        out.extend_from_slice(lines[i % lines.len()].as_bytes());
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    out
}

fn time(label: &str, bytes: usize, mut f: impl FnMut()) {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{label:<28} {:>8.0} MB/s (best of 5)",
        bytes as f64 / 1e6 / best
    );
}

/// `n` deterministic keywords shaped like token prefixes and labels: 5–11 lowercase letters and
/// digits, half of them ending in `_` or `-`.
fn synthetic_keywords(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let len = 5 + (next() % 7) as usize;
            let mut k: String = (0..len)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[(next() % 36) as usize] as char)
                .collect();
            match next() % 4 {
                0 => k.push('_'),
                1 => k.push('-'),
                _ => {}
            }
            k
        })
        .collect()
}

fn main() {
    let file = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let hay = match &file {
        Some(path) => std::fs::read(path).expect("readable FILE"),
        None => generated(),
    };
    let rules = RuleSet::builtin().expect("built-in rules load");
    let mut kws: Vec<String> = rules
        .rules()
        .iter()
        .flat_map(|r| r.keywords.iter().cloned())
        .collect();
    kws.sort();
    kws.dedup();
    let keywords = Keywords::new(&kws);
    println!("{} MB, {} keywords", hay.len() / 1_000_000, keywords.len());
    let mut hits = 0usize;
    time("keyword prefilter", hay.len(), || {
        hits = 0;
        keywords.for_each(&hay, |_, _, _| hits += 1);
    });
    println!("  {hits} keyword hits");
    for n in [300usize, 1_000, 3_000] {
        let mut more = kws.clone();
        more.extend(synthetic_keywords(n.saturating_sub(kws.len())));
        more.sort();
        more.dedup();
        let k = Keywords::new(&more);
        let mut hits = 0usize;
        time(
            &format!("prefilter, {} keywords", k.len()),
            hay.len(),
            || {
                hits = 0;
                k.for_each(&hay, |_, _, _| hits += 1);
            },
        );
        println!("  {hits} keyword hits");
    }
    let engine = Engine::new(rules);
    let mut scratch = Default::default();
    let mut findings = 0;
    time("engine (decode on)", hay.len(), || {
        findings = engine.scan("bench", &hay, &mut scratch).len();
    });
    println!("  {findings} findings");
}
