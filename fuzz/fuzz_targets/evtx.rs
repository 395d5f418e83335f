//! EVTX files: the evtx crate and shellward's record builder, screen and problem reporting.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_sources::fuzzing::forced(data, shellward_event::Format::Evtx);
});
