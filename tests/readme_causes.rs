//! The README's cause table is what `mqtt-doctor causes` prints: every id, in stage order,
//! with its stage and meaning, so the documentation cannot drift from the catalog.

mod common;

#[test]
fn the_readme_cause_table_is_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("| cause | stage | meaning |")
        .expect("the README has a cause table");
    let rows: Vec<(String, String, String)> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].to_string(),
            )
        })
        .collect();
    let (code, out, err) = common::run(&["causes", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let catalog: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    let listed: Vec<(String, String, String)> = catalog
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("").to_string(),
                c["stage"].as_str().unwrap_or("").to_string(),
                c["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows, listed,
        "regenerate README's cause table from `mqtt-doctor causes --json`"
    );
    // The causes issue 15 added are listed with their stages.
    for (id, stage) in [
        ("tls.sni_rejected", "tls"),
        ("tls.client_chain_incomplete", "tls"),
        ("mqtt.policy_refused", "mqtt"),
        ("mqtt.tls_not_used", "mqtt"),
        ("mqtt.azure_mismatch", "mqtt"),
        ("proxy.dns", "proxy"),
        ("proxy.unreachable", "proxy"),
    ] {
        assert!(
            rows.iter().any(|(i, s, _)| i == id && s == stage),
            "{id} ({stage}) missing"
        );
    }
}
