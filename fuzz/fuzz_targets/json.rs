//! The json framer and the decoders behind it, and a record's route read by the scanner against
//! the serde pass.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::text(data, "json");
    shellward_sources::fuzzing::json_route(data);
});
