//! Any bytes as a user's input: sniffing, gzip and zip containers, UTF-16, every decoder.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::sniffed(data);
});
