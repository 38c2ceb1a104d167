//! `paths::ALL` names every path constant of the `paths` module: the server's OpenAPI test
//! probes the router at each path of that list, so a path left out of it could be served
//! undocumented.

/// The `(NAME, "/path")` of each `pub const` in `pub mod paths { ... }` of the crate's source.
fn declared_paths() -> Vec<(String, String)> {
    let source = include_str!("../src/lib.rs");
    let start = source.find("pub mod paths {").expect("the paths module");
    let body = &source[start..];
    let end = body.find("\n}\n").expect("the end of the paths module");
    body[..end]
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, rest) = rest.split_once(": &str = \"")?;
            let (value, _) = rest.split_once('"')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

#[test]
fn every_path_constant_is_in_the_list_of_all_paths() {
    let declared = declared_paths();
    assert!(declared.len() >= 10, "the source was read: {declared:?}");
    for (name, value) in &declared {
        assert!(protocol::paths::ALL.contains(&value.as_str()), "paths::{name} ({value}) is missing from paths::ALL");
    }
    assert_eq!(protocol::paths::ALL.len(), declared.len(), "paths::ALL lists only the declared paths, once each");
}
