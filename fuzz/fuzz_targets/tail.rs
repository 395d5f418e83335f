//! `watch`'s tail: the same bytes appended in fuzzed pieces, decoded line by line as they come.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::tail(data);
});
