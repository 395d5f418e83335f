//! Web server logs: IIS W3C (with `#Fields` directives) and common/combined access logs.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::text(data, "w3c");
    shellward_sources::fuzzing::text(data, "access");
});
