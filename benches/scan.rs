//! `cargo bench --bench scan [FILE]`: single-thread throughput of the keyword prefilter and of
//! the whole engine over one buffer (FILE, default: a generated mix of code and configs).
//! The prefilter is also timed with 300, 1,000 and 3,000 keywords (a sample of the built-in
//! ones, or the built-in ones padded by synthetic provider-like keywords such as `qv7rxt_` with
//! the same length mix), to show how it scales with rules.
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
        "{label:<56} {:>8.0} MB/s (best of 5)",
        bytes as f64 / 1e6 / best
    );
}

/// `n` deterministic keywords shaped like token prefixes and labels (lowercase letters and
/// digits, half of them ending in `_` or `-`), with the lengths of `like` in the same
/// proportions: 3- and 4-byte keywords cost the prefilter most, so a padded set must keep them.
fn synthetic_keywords(n: usize, like: &[String]) -> Vec<String> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let len = like[(next() % like.len() as u64) as usize].len().max(3);
            let mut k: String = (0..len)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[(next() % 36) as usize] as char)
                .collect();
            if len > 3 {
                match next() % 4 {
                    0 => k.replace_range(len - 1.., "_"),
                    1 => k.replace_range(len - 1.., "-"),
                    _ => {}
                }
            }
            k
        })
        .collect()
}

/// Every `len / n`-th keyword of `kws`: a smaller catalogue with the same mix.
fn sample(kws: &[String], n: usize) -> Vec<String> {
    (0..n).map(|i| kws[i * kws.len() / n].clone()).collect()
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
    // Padding with the built-ins' length mix adds random 3- and 4-byte keywords, which also
    // match far more often in real text; padding with 5+ byte ones shows the cost of the
    // index alone.
    let long: Vec<String> = kws.iter().filter(|k| k.len() >= 5).cloned().collect();
    for (n, like, mix) in [
        (300usize, &kws, "built-in sample"),
        (1_000, &kws, "built-in length mix"),
        (3_000, &kws, "built-in length mix"),
        (1_000, &long, "padding of 5+ bytes"),
        (3_000, &long, "padding of 5+ bytes"),
    ] {
        let mut set = if n <= kws.len() {
            sample(&kws, n)
        } else {
            let mut more = kws.clone();
            more.extend(synthetic_keywords(n - kws.len(), like));
            more
        };
        set.sort();
        set.dedup();
        let k = Keywords::new(&set);
        let mut hits = 0usize;
        time(
            &format!("prefilter, {} keywords ({mix})", k.len()),
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
