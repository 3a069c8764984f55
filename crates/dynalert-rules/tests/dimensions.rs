//! The platform's `dimensions:` block declares exactly the dimensional keys the packs honour:
//! a label the packs do not resolve per series must be rejected by validation, and a label
//! they do resolve must be allowed.

use std::collections::BTreeSet;
use std::path::Path;

use yaml_rust2::YamlLoader;

#[test]
fn declared_dimensions_are_the_ones_the_packs_honour() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d/_defaults.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
    let mut declared = BTreeSet::new();
    for (key, labels) in doc["dimensions"].as_hash().expect("a `dimensions:` block") {
        for label in labels.as_vec().unwrap() {
            declared.insert((
                key.as_str().unwrap().to_string(),
                label.as_str().unwrap().to_string(),
            ));
        }
    }
    let honoured: BTreeSet<(String, String)> = dynalert_rules::DIMENSIONS
        .iter()
        .map(|(key, _, _, label)| (key.to_string(), label.to_string()))
        .collect();
    assert_eq!(declared, honoured);
}
