//! Compiles in every language of the focal points' portal: each `templates/portal/<lang>.json`
//! (an object of strings) becomes an entry of `portal_languages.rs` in `OUT_DIR`, which
//! `src/portal/view.rs` includes. A second language is a second file.

use std::path::Path;

fn main() {
    let dir = Path::new("templates/portal");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut languages: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| {
                    let lang = p.file_stem()?.to_str()?.to_string();
                    let path = std::fs::canonicalize(&p).ok()?;
                    Some((lang, path.to_string_lossy().into_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    languages.sort();
    let mut code = String::from(
        "/// The portal's languages: tag and strings file (made by build.rs).\n\
         pub static LANGUAGES: &[(&str, &str)] = &[\n",
    );
    for (lang, path) in &languages {
        println!("cargo:rerun-if-changed={path}");
        code.push_str(&format!("    ({lang:?}, include_str!({path:?})),\n"));
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_string());
    if let Err(e) = std::fs::write(Path::new(&out).join("portal_languages.rs"), code) {
        panic!("writing portal_languages.rs: {e}");
    }
}
