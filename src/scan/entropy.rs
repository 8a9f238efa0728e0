//! Shannon entropy of a byte string, in bits per byte.

/// Shannon entropy of `bytes` (0 for empty input).
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut hist = [0u32; 256];
    for &b in bytes {
        hist[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    hist.iter().filter(|&&c| c > 0).fold(0.0, |acc, &c| {
        let p = f64::from(c) / n;
        acc - p * p.log2()
    })
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn table() {
        for (input, want) in [
            (&b""[..], 0.0),
            (b"aaaa", 0.0),
            (b"ab", 1.0),
            (b"abcd", 2.0),
            (b"0123456789abcdef", 4.0),
        ] {
            assert!((shannon(input) - want).abs() < 1e-9, "{input:?}");
        }
    }
}
