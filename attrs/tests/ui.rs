//! Compile-pass and compile-fail cases of the annotation macros (trybuild;
//! expected errors in `ui/fail/*.stderr`, regenerate with
//! `TRYBUILD=overwrite cargo test -p faultlock-attrs` and review).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
