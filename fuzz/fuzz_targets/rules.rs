//! Rule loading: YAML, Sigma rules, filters, correlations, then compiling them.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shellward_fuzz::compile(data);
});
