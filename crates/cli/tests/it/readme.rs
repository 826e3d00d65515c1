//! The README's first command prints what the README says it prints.

use super::{example, root, tidewatch};

#[test]
fn readme_first_command_output_is_current() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("The first prints:\n\n```text\n")
        .expect("README shows the output");
    let body = &readme[start + "The first prints:\n\n```text\n".len()..];
    let shown = &body[..body.find("\n```").unwrap()];
    let (b, t) = (
        example("seattle_weather_baseline_2012_2013.csv"),
        example("seattle_weather_target_2015.csv"),
    );
    let out = tidewatch(&["compare", b.to_str().unwrap(), t.to_str().unwrap()]);
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed.trim_end(),
        shown,
        "README.md's sample output is stale: replace it with the output above"
    );
}
