//! Archives over arbitrary bytes: the first byte picks a container (zip, gzip, tar, or the bytes
//! as they are) so the fuzzer starts from valid magic. No panic; every member handed to the scan
//! is within the member size limit, the total within the archive budget, the member count within
//! its limit; and the scan of the whole input returns.
#![no_main]

use keyleak::decode::archive::{self, ArchiveLimits};
use keyleak::model::{Input, Provenance};
use keyleak::scan::{Scratch, scan_input};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// Small limits, so that the fuzzer reaches them.
const LIMITS: ArchiveLimits = ArchiveLimits {
    max_total: 1 << 20,
    max_ratio: 50,
    ratio_floor: 4 << 10,
    max_depth: 3,
    max_members: 64,
    max_member_size: 256 << 10,
};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let magic: &[u8] = match pick % 4 {
        0 => b"PK\x03\x04",
        1 => b"\x1f\x8b\x08",
        2 => b"",
        _ => b"",
    };
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(rest);
    if pick % 4 == 2 && bytes.len() >= 262 {
        // A tar header's `ustar` magic at offset 257.
        bytes[257..262].copy_from_slice(b"ustar");
    }
    let (mut total, mut members) = (0u64, 0usize);
    let mut skipped = Vec::new();
    archive::expand(&LIMITS, "fuzz", &bytes, &mut skipped, &mut |_, member| {
        assert!(member.len() as u64 <= LIMITS.max_member_size);
        total += member.len() as u64;
        members += 1;
    });
    assert!(total <= LIMITS.max_total, "{total}");
    assert!(members <= LIMITS.max_members, "{members}");
    let provenance = Provenance::Path("fuzz".into());
    let scanned = scan_input(
        &common::ENGINE,
        Input {
            provenance: &provenance,
            bytes: &bytes,
        },
        &mut Scratch::default(),
    );
    for f in &scanned.findings {
        assert!(f.path.starts_with("fuzz"), "{}", f.path);
    }
});
