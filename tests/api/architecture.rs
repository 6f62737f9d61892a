//! The API crate's layering, checked on its sources: use cases know nothing
//! of HTTP, and no two modules import each other (directly or around a
//! loop), so every behaviour has one home and a change ripples one way.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The code of a file without comments and without its `#[cfg(test)]`
/// module (tests may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment of every name imported after `prefix` (`crate::`
/// or `super::`), including the members of `prefix{a, b::c}` groups.
fn imported_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        rest = &rest[i + prefix.len()..];
        let trimmed = rest.trim_start();
        if let Some(group) = trimmed.strip_prefix('{') {
            let mut depth = 1;
            let mut current = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        at_start = true;
                        current.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        current.push(c);
                    } else if !current.is_empty() {
                        names.insert(current.clone());
                        at_start = false;
                    }
                }
            }
            if at_start && !current.is_empty() {
                names.insert(current);
            }
        } else {
            let name: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names.remove("self");
    names
}

/// The module a file belongs to, one level below `root`.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn graph(
    root: &Path,
    prefix: &str,
    modules: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(root) {
        let from = module_of(root, &file);
        if from == "mod" || from == "lib" || from == "main" {
            continue;
        }
        let to = imported_after(&code(&file), prefix);
        for m in to.into_iter().filter(|m| modules.contains(m) && *m != from) {
            edges.entry(from.clone()).or_default().insert(m);
        }
    }
    edges
}

/// A cycle in the graph, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

fn modules_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .filter(|m| m != "mod" && m != "lib" && m != "main")
        .collect()
}

#[test]
fn use_cases_know_nothing_of_http() {
    for file in rust_files(&src().join("service")) {
        let code = code(&file);
        for forbidden in ["dto::", "problem::", "actix", "extract::", "routes::"] {
            assert!(
                !code.contains(forbidden),
                "{} mentions {forbidden}",
                file.display()
            );
        }
    }
}

#[test]
fn the_crate_modules_import_each_other_one_way_only() {
    let root = src();
    let modules = modules_in(&root);
    let edges = graph(&root, "crate::", &modules);
    assert!(
        edges.get("service").is_some_and(|e| e.contains("keys")),
        "the scanner sees imports: {edges:?}"
    );
    assert_eq!(find_cycle(&edges), None, "{edges:#?}");
}

#[test]
fn the_use_cases_import_each_other_one_way_only() {
    let root = src().join("service");
    let modules = modules_in(&root);
    let mut edges = graph(&root, "super::", &modules);
    for (from, to) in graph(&root, "crate::service::", &modules) {
        edges.entry(from).or_default().extend(to);
    }
    assert!(
        edges
            .get("enrollment")
            .is_some_and(|e| e.contains("record")),
        "the scanner sees imports: {edges:?}"
    );
    assert_eq!(find_cycle(&edges), None, "{edges:#?}");
}

#[test]
fn the_scanner_reads_groups_and_plain_paths() {
    let names = imported_after(
        "use crate::{a::B, c::{self, D}, e};\nlet x = crate::f::g();",
        "crate::",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        vec!["a", "c", "e", "f"]
    );
    let mut edges = BTreeMap::new();
    edges.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    edges.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert!(find_cycle(&edges).is_some());
}
