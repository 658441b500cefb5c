//! Lets `cargo test` run this crate's tests: they link libpython, which the loader must find
//! (maturin's extension builds link no libpython, so this adds nothing to them).
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
