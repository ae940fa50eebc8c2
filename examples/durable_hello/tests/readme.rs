//! What README.md's "Durable Functions" section shows: its code is this
//! example's, word for word, and its URLs are the local host's.

use std::path::Path;

fn readme() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(root).expect("README.md")
}

#[test]
fn the_readme_shows_the_examples_code_word_for_word() {
    let readme = readme();
    let section = readme
        .split("<!-- durable-example -->")
        .nth(1)
        .expect("the Durable Functions example in README.md");
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let blocks: Vec<&str> = section
        .split("```rust\n")
        .skip(1)
        .take(3)
        .filter_map(|block| block.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 3);
    for block in blocks {
        assert!(source.contains(block), "src/lib.rs lacks:\n{block}");
    }
}

#[test]
fn the_readmes_urls_are_the_stand_ins() {
    let readme = readme();
    assert!(readme.contains(&format!(
        "curl localhost:7071{}/instances/<id>",
        cargo_azfunc::durable::api::PREFIX
    )));
    // The starter's route, as its function.json declares it.
    let function = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("HttpStart/function.json"),
    )
    .expect("HttpStart/function.json");
    assert!(function.contains(r#""route": "orchestrators/{name}""#));
    assert!(readme.contains("curl -i -X POST localhost:7071/api/orchestrators/chaining"));
}
