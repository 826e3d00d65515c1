//! The README's first command prints what the README says it prints, and
//! writes its HTML report.

use std::process::Command;

use super::{example, root};

#[test]
fn readme_first_command_output_is_current() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let command = "cargo run -q -p tidewatch-cli -- compare examples/data/car_loan_reference.csv examples/data/car_loan_analysis.csv --exclude id,repaid --format html -o drift-report.html";
    assert!(
        readme.contains(command),
        "the README's first command changed: update this test"
    );
    let start = readme
        .find("The first prints:\n\n```text\n")
        .expect("README shows the output");
    let body = &readme[start + "The first prints:\n\n```text\n".len()..];
    let shown = &body[..body.find("\n```").unwrap()];
    // Run where the report may be written: a temporary folder.
    let dir = tempfile::tempdir().unwrap();
    let (b, t) = (
        example("car_loan_reference.csv"),
        example("car_loan_analysis.csv"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tidewatch"))
        .current_dir(dir.path())
        .args(["compare", b.to_str().unwrap(), t.to_str().unwrap()])
        .args([
            "--exclude",
            "id,repaid",
            "--format",
            "html",
            "-o",
            "drift-report.html",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed.trim_end(),
        shown,
        "README.md's sample output is stale: replace it with the output above"
    );
    let html = std::fs::read_to_string(dir.path().join("drift-report.html")).unwrap();
    assert!(html.contains("car_value"));
}
