//! The example's hand-kept function folders say exactly what its registry
//! declares, and every registered function has one.

use std::path::{Path, PathBuf};

use cargo_azfunc::generate::{Metadata, differences, missing, read_metadata};

#[test]
fn every_registered_function_has_its_folder_and_each_says_what_the_registry_declares() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let metadata = Metadata::from_functions(durable_hello::registry().function_jsons());
    assert_eq!(missing(root, &metadata), Vec::<String>::new());
    assert_eq!(differences(root, &metadata).unwrap(), Vec::<String>::new());
    // The built binary prints the same registry.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_durable_hello"));
    assert_eq!(read_metadata(&binary, root).unwrap(), metadata);
}
