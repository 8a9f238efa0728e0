//! Every validator on arbitrary bytes: never a panic, any narrowed range inside the input.
#![no_main]

use keyleak::scan::validate::Validator;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for v in Validator::ALL {
        if let Some(r) = v.check(data) {
            assert!(r.start <= r.end && r.end <= data.len(), "{} gave {r:?}", v.name());
        }
    }
});
