//! The layer rule of [`crate`], checked: the layer table of `lib.rs`'s docs is read, then
//! every `crate::` path in the code of `src/` (its `use` lines and paths written inline;
//! comments are not read) must name a module of the same layer or of a layer below its own.

use std::path::{Path, PathBuf};

/// The layers, top first, as the table "| layer | modules | knows |" of `lib.rs` states
/// them: a module may use its own layer and those below it.
fn layers() -> Vec<(String, Vec<String>)> {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("reading src/lib.rs");
    let rows = lib
        .lines()
        .skip_while(|l| !l.starts_with("//! | layer | modules |"))
        .skip(2)
        .take_while(|l| l.starts_with("//! |"));
    rows.map(|row| {
        let cells: Vec<&str> = row.trim_start_matches("//! ").split('|').collect();
        let modules = cells[2]
            .split("[`")
            .skip(1)
            .filter_map(|m| m.split('`').next())
            .map(str::to_string)
            .collect();
        (cells[1].trim().to_string(), modules)
    })
    .collect()
}

/// Imports that run against the rule and stay, each with its reason.
const ALLOWED: &[(&str, &str, &str)] = &[
    // (file, the module it names, why)
];

fn layer_of(layers: &[(String, Vec<String>)], module: &str) -> Option<usize> {
    layers
        .iter()
        .position(|(_, mods)| mods.iter().any(|m| m == module))
}

/// The top-level module a file of `src/` belongs to (`src/store/write.rs`: `store`).
fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap_or(path);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without its comments (line comments and doc comments; block comments
/// are not used in `src/`).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is rare in paths that name `crate::`; cut there.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module that `code` names after `crate::`, `use crate::{a, b::c}` included.
fn modules_named(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `$crate::`, `my_crate::`, `super::crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            found.push(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading src/").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import that runs against the rule, as `file: module -> named (layer -> layer)`.
fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers = layers();
    assert!(layers.len() > 3, "lib.rs states no layer table");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let module = module_of(&file, &src);
        let Some(own) = layer_of(&layers, &module) else {
            // lib.rs, main.rs (the binary sees only the library) and this file stand apart.
            if !["lib", "main", "layers"].contains(&module.as_str()) {
                found.push(format!("src/{module}: a module on no layer of lib.rs"));
            }
            continue;
        };
        let rel = format!("src/{}", file.strip_prefix(&src).unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&file).expect("reading a source file");
        let mut named = modules_named(&code_of(&text));
        named.sort();
        named.dedup();
        for other in named {
            let Some(theirs) = layer_of(&layers, &other) else {
                found.push(format!("{rel}: names crate::{other}, which is on no layer"));
                continue;
            };
            let allowed = ALLOWED.iter().any(|(f, m, _)| *f == rel && *m == other);
            if theirs < own && !allowed {
                found.push(format!(
                    "{rel}: {module} ({}) uses crate::{other} ({}), a layer above it",
                    layers[own].0, layers[theirs].0
                ));
            }
        }
    }
    found
}

#[test]
fn imports_point_down_the_layers() {
    let found = violations();
    assert!(
        found.is_empty(),
        "imports against the layer rule (lib.rs):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_pure_layers_know_no_http() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("access.rs")];
    rust_files(&src.join("domain"), &mut files);
    for file in files {
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for word in ["actix", "ApiError"] {
            assert!(
                !code.contains(word),
                "{} uses {word}: the rule and the values know no HTTP",
                file.display()
            );
        }
    }
}

#[test]
fn every_allowed_import_is_still_needed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (file, module, _) in ALLOWED {
        let text =
            std::fs::read_to_string(src.join(file.trim_start_matches("src/"))).unwrap_or_default();
        assert!(
            modules_named(&code_of(&text)).iter().any(|m| m == module),
            "{file} no longer uses crate::{module}: strike it from ALLOWED"
        );
    }
}

#[test]
fn the_reader_finds_grouped_and_inline_paths() {
    let code = "use crate::{db, store::{write, Caller}};\nlet x = crate::error::ApiError::X;";
    assert_eq!(modules_named(code), ["db", "store", "error"]);
    assert_eq!(
        modules_named(&code_of("// crate::routes\n")),
        Vec::<String>::new()
    );
}
