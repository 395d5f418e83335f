//! Rendering to kql: each rule alone, the combined query and the correlations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_fuzz::render(data, shellward_render::Target::Kql);
});
