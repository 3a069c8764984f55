//! Random and mutated YAML never panics the loader: every failure is a diagnostic.

use chrono::Utc;
use proptest::prelude::*;

mod common;
use common::{apply, examples, Edit};

fn edit() -> impl Strategy<Value = Edit> {
    let chars = prop::sample::select(vec![
        ':', '-', '{', '}', '[', ']', '"', '\'', '\n', ' ', '#', '&', '*', '!', '|', '>', '%', '@',
        '`', '\t', '0', '9', '.', 'é', '\u{0}',
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..8).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), chars).prop_map(|(a, c)| Edit::Insert(a, c.to_string())),
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Edit::Duplicate(a, n, 1)),
    ]
}

fn load(platform: &str, tenant: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_defaults.yaml"), platform).unwrap();
    std::fs::write(dir.path().join("db-a.yaml"), tenant).unwrap();
    let report = dynalert_config::load_dir(dir.path(), Utc::now()).unwrap();
    // Whatever was accepted must also resolve and render.
    let snap = dynalert_model::resolve(&report.config, Utc::now());
    let _ = dynalert_exposition::render(&snap, dynalert_exposition::Format::Text);
    for d in &report.diagnostics {
        assert!(d.pos.line >= 1 && d.pos.col >= 1, "{d}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_tenant_files_never_panic(which in 0usize..3, edits in prop::collection::vec(edit(), 1..6)) {
        let ex = examples();
        let tenants: Vec<&String> = ex.iter().filter(|t| t.contains("tenants:")).collect();
        let platform = ex.iter().find(|t| t.contains("defaults:")).unwrap();
        let tenant = tenants[which % tenants.len()].replace("db-b:", "db-a:").replace("cache-c:", "db-a:");
        load(platform, &apply(&tenant, &edits));
    }

    #[test]
    fn mutated_platform_files_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let ex = examples();
        let platform = ex.iter().find(|t| t.contains("defaults:")).unwrap();
        load(&apply(platform, &edits), "tenants:\n  db-a:\n    mysql_connections: 70\n");
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        load("defaults:\n  mysql_connections: 80\n", &text);
    }
}
