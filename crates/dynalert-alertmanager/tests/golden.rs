//! The rendered fixture configuration is committed and compared byte for byte, so a
//! change of the generated file shows up in review.
//! Update with `DYNALERT_UPDATE_GOLDEN=1 cargo test -p dynalert-alertmanager --test golden`.

use std::path::Path;

#[test]
fn fixture_render_matches_committed_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/alertmanager");
    let report = dynalert_config::load_dir(root.join("conf.d"), chrono::Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let generated = dynalert_alertmanager::generate(&report.config).unwrap();
    let text = dynalert_alertmanager::render(&generated, None).unwrap();
    let golden = root.join("fixture.alertmanager.yml");
    if std::env::var_os("DYNALERT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        committed == text,
        "`{}` is out of date\n  hint: run `DYNALERT_UPDATE_GOLDEN=1 cargo test -p dynalert-alertmanager --test golden` and review the diff",
        golden.display()
    );
    // Secrets end up in the file (Alertmanager needs them), never in the masked view.
    assert!(text.contains("hunter2"));
    let masked: Vec<_> = generated.receivers.iter().map(|r| &r.masked).collect();
    let masked = serde_json::to_string(&masked).unwrap();
    for secret in ["hunter2", "XXXXSECRET", "0123456789abcdef"] {
        assert!(!masked.contains(secret), "{secret} in {masked}");
    }
}
