//! The esxi framer and the decoders behind it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::text(data, "esxi");
});
