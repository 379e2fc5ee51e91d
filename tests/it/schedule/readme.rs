//! The README's schedule reference matches the code: every ```toml example in the section
//! "## The schedule file" is accepted, and its demo schedule is the one in schedules/.

use antenne::schedule::{NoFacts, Schedule};
use jiff::Timestamp;

fn section() -> String {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find("## The schedule file").expect("README section");
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i);
    rest[..end].to_string()
}

fn toml_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("```toml\n") {
        let body = &rest[i + 8..];
        let j = body.find("```").expect("closed block");
        out.push(body[..j].to_string());
        rest = &body[j + 3..];
    }
    out
}

#[test]
fn every_toml_example_in_the_readme_parses() {
    let demo = std::fs::read_to_string("schedules/weekly.toml").unwrap();
    let blocks = toml_blocks(&section());
    assert!(blocks.len() >= 3, "found {} toml blocks", blocks.len());
    let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    for block in &blocks {
        // Snippets are read as additions to the demo schedule they refer to.
        let src = if block.contains("[station]") {
            block.clone()
        } else {
            format!("{demo}\n{block}")
        };
        if let Err(d) = Schedule::parse(&src, "README.md", now, &NoFacts) {
            panic!(
                "{block}\n{}",
                d.iter().map(|d| format!("{d}\n")).collect::<String>()
            );
        }
    }
    assert!(
        blocks.contains(&demo),
        "the README shows schedules/weekly.toml verbatim"
    );
}
