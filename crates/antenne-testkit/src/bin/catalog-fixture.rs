//! Prints the upgrade fixture (see `antenne_testkit::catalog_fixture`) made by this build:
//! `cargo run -p antenne-testkit --bin catalog-fixture > tests/fixtures/catalog-vN.sql`.

fn main() {
    let dir = std::env::temp_dir().join(format!("antenne-fixture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let catalog = antenne_testkit::catalog_fixture::build(&dir);
    drop(catalog);
    print!(
        "{}",
        antenne_testkit::catalog_fixture::dump(&dir.join(antenne::catalog::CATALOG_FILE))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
