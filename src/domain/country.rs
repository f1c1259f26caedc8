//! ISO 3166-1 countries: reference data from the `keshvar` crate, and the resolution of any
//! input form (alpha-2, alpha-3, English short or official name, common alias) to alpha-2.
//!
//! Regions and subregions are the UN M49 names ("Asia", "South-eastern Asia"). Each country's
//! `un_name` is its UN M49 "Country or Area" name ("Republic of Korea", "Viet Nam"), from the
//! `codes-un-m49` crate 0.1.2, which generates it from the UN Statistics Division's M49
//! overview page (<https://unstats.un.org/unsd/methodology/m49/overview/>) as retrieved for
//! its release of 2022-12-25; an area M49 does not list keeps its ISO 3166-1 short name.

use std::collections::HashMap;

use keshvar::{CountryIterator, Region, SubRegion};
use unicode_normalization::UnicodeNormalization;

/// One ISO 3166-1 entry as stored in `countries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryRecord {
    /// ISO 3166-1 alpha-2 (`"KH"`).
    pub code: String,
    /// ISO 3166-1 alpha-3 (`"KHM"`).
    pub alpha3: String,
    /// ISO 3166-1 numeric, three digits (`"116"`).
    pub numeric: String,
    /// English short name (ISO 3166-1).
    pub name: String,
    /// United Nations English short name (UN M49 "Country or Area"), else [`Self::name`].
    pub un_name: String,
    /// English official (long) name, without a leading "The".
    pub official_name: String,
    /// UN M49 region, `None` for Antarctica.
    pub region: Option<String>,
    /// UN M49 subregion.
    pub subregion: Option<String>,
    /// Other names accepted as input (already normalised with [`normalise`]).
    pub aliases: Vec<String>,
}

/// Common English names that `keshvar` does not list, as (alias, alpha-2). API.md requires
/// "Lao PDR" and "Republic of Korea"; the rest are names used in diplomatic texts.
const EXTRA_ALIASES: &[(&str, &str)] = &[
    ("Lao PDR", "LA"),
    ("Lao P.D.R.", "LA"),
    ("Republic of Korea", "KR"),
    ("Korea, Republic of", "KR"),
    ("ROK", "KR"),
    ("Democratic People's Republic of Korea", "KP"),
    ("DPRK", "KP"),
    ("North Korea", "KP"),
    ("East Timor", "TL"),
    ("Brunei", "BN"),
    ("Turkey", "TR"),
    ("Turkiye", "TR"),
    ("Vietnam", "VN"),
    ("Viet Nam", "VN"),
    ("Burma", "MM"),
    ("Laos", "LA"),
    ("Russia", "RU"),
    ("Iran", "IR"),
    ("Syria", "SY"),
    ("Bolivia", "BO"),
    ("Venezuela", "VE"),
    ("Tanzania", "TZ"),
    ("Moldova", "MD"),
    ("United States", "US"),
    ("USA", "US"),
    ("United Kingdom", "GB"),
    ("UK", "GB"),
    ("Czechia", "CZ"),
    ("Czech Republic", "CZ"),
    ("Ivory Coast", "CI"),
    ("Cape Verde", "CV"),
    ("Swaziland", "SZ"),
    ("Macedonia", "MK"),
    ("Micronesia", "FM"),
    ("Palestine", "PS"),
    ("Vatican", "VA"),
    ("Holy See", "VA"),
    // Formal names as governments write them (the NIA's press releases).
    ("Socialist Republic of Vietnam", "VN"),
    ("Socialist Republic of Viet Nam", "VN"),
    ("Lao People's Democratic Republic", "LA"),
    ("Republic of Indonesia", "ID"),
    ("Republic of Singapore", "SG"),
    ("Kingdom of Thailand", "TH"),
    ("Republic of the Philippines", "PH"),
    ("Nation of Brunei, the Abode of Peace", "BN"),
    ("People's Republic of China", "CN"),
    ("Federation of Malaysia", "MY"),
];

/// The UN M49 "Country or Area" name of each alpha-2 code M49 lists (248 of them).
fn m49_names() -> HashMap<&'static str, &'static str> {
    use codes_un_m49::{RegionKind, ALL_CODES};
    ALL_CODES
        .iter()
        .filter(|area| area.kind() == RegionKind::Country)
        .filter_map(|area| Some((area.country_code()?, area.name())))
        .collect()
}

/// Lower case, single spaces, no surrounding space, Unicode NFC: the key under which aliases
/// are stored and looked up, so that `"Türkiye"` typed decomposed (NFD) finds Türkiye.
pub fn normalise(name: &str) -> String {
    let lower = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    lower.nfc().collect()
}

/// UN M49 name of a region.
fn region_name(region: Region) -> Option<&'static str> {
    match region {
        Region::Africa => Some("Africa"),
        Region::Americas => Some("Americas"),
        Region::Asia => Some("Asia"),
        Region::Europe => Some("Europe"),
        Region::Oceania => Some("Oceania"),
        Region::Antarctica => None,
    }
}

/// UN M49 name of a subregion.
fn subregion_name(subregion: SubRegion) -> &'static str {
    match subregion {
        SubRegion::AustraliaAndNewZealand => "Australia and New Zealand",
        SubRegion::Caribbean => "Caribbean",
        SubRegion::CentralAmerica => "Central America",
        SubRegion::CentralAsia => "Central Asia",
        SubRegion::EasternAfrica => "Eastern Africa",
        SubRegion::EasternAsia => "Eastern Asia",
        SubRegion::EasternEurope => "Eastern Europe",
        SubRegion::Melanesia => "Melanesia",
        SubRegion::Micronesia => "Micronesia",
        SubRegion::MiddleAfrica => "Middle Africa",
        SubRegion::NorthernAfrica => "Northern Africa",
        SubRegion::NorthernAmerica => "Northern America",
        SubRegion::NorthernEurope => "Northern Europe",
        SubRegion::Polynesia => "Polynesia",
        SubRegion::SouthAmerica => "South America",
        SubRegion::SouthEasternAsia => "South-eastern Asia",
        SubRegion::SouthernAfrica => "Southern Africa",
        SubRegion::SouthernAsia => "Southern Asia",
        SubRegion::SouthernEurope => "Southern Europe",
        SubRegion::WesternAfrica => "Western Africa",
        SubRegion::WesternAsia => "Western Asia",
        SubRegion::WesternEurope => "Western Europe",
    }
}

/// Strips a leading "The " (ISO long names start with it).
fn without_article(name: &str) -> &str {
    name.strip_prefix("The ")
        .or_else(|| name.strip_prefix("the "))
        .unwrap_or(name)
}

/// Every ISO 3166-1 entry known to `keshvar`, sorted by alpha-2, with its aliases.
pub fn iso_countries() -> Vec<CountryRecord> {
    let un_names = m49_names();
    let mut out: Vec<CountryRecord> = CountryIterator::new()
        .map(|c| {
            let code = c.alpha2().to_string().to_uppercase();
            let un_name = un_names
                .get(code.as_str())
                .map_or_else(|| c.iso_short_name().to_string(), |n| n.to_string());
            let mut aliases: Vec<String> = Vec::new();
            let mut add = |s: &str| {
                let key = normalise(s);
                if !key.is_empty() && !aliases.contains(&key) {
                    aliases.push(key);
                }
            };
            add(c.iso_short_name());
            add(&un_name);
            add(c.iso_long_name());
            add(without_article(c.iso_long_name()));
            for name in c.unofficial_name_list() {
                // keshvar lists names in several languages and scripts; keep the Latin ones.
                if name.chars().all(|ch| ch.is_ascii() || ch.is_alphabetic()) {
                    add(name);
                }
            }
            for (alias, target) in EXTRA_ALIASES {
                if *target == code {
                    add(alias);
                }
            }
            CountryRecord {
                alpha3: c.alpha3().to_string().to_uppercase(),
                numeric: format!("{:0>3}", c.number()),
                name: c.iso_short_name().to_string(),
                un_name,
                official_name: without_article(c.iso_long_name()).to_string(),
                region: c.maybe_region().and_then(region_name).map(str::to_string),
                subregion: c.maybe_subregion().map(|s| subregion_name(s).to_string()),
                aliases,
                code,
            }
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

/// The `un_name` of an alpha-2 code (`"KR"` -> `"Republic of Korea"`), from the same data as
/// the `countries` table ([`iso_countries`], built once per process), for renderers that get
/// only a serialised body (the printable list of participants names its venue's country).
/// `None` for a code ISO 3166-1 does not have.
pub fn un_name(code: &str) -> Option<&'static str> {
    static NAMES: std::sync::LazyLock<HashMap<String, String>> = std::sync::LazyLock::new(|| {
        iso_countries()
            .into_iter()
            .map(|c| (c.code, c.un_name))
            .collect()
    });
    NAMES.get(code).map(String::as_str)
}

/// An in-memory index from every accepted input form to alpha-2, built from the database at
/// start (countries are reference data that never change while the server runs).
#[derive(Debug, Default, Clone)]
pub struct CountryIndex {
    by_key: HashMap<String, String>,
    names: HashMap<String, String>,
}

impl CountryIndex {
    /// Builds the index from `(code, alpha3, un_name)` rows and `(alias, code)` rows.
    pub fn new(
        countries: impl IntoIterator<Item = (String, String, String)>,
        aliases: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut by_key = HashMap::new();
        let mut names = HashMap::new();
        for (alias, code) in aliases {
            by_key.insert(normalise(&alias), code);
        }
        // Codes win over names when both match (e.g. "UK" is not a code, "US" is).
        for (code, alpha3, name) in countries {
            by_key.insert(code.to_lowercase(), code.clone());
            by_key.insert(alpha3.to_lowercase(), code.clone());
            names.insert(code.clone(), name);
        }
        Self { by_key, names }
    }

    /// Alpha-2 for any accepted form (any letter case), or `None` for an unknown country.
    pub fn resolve(&self, input: &str) -> Option<&str> {
        let key = normalise(input);
        self.by_key
            .get(&key)
            .or_else(|| key.strip_prefix("the ").and_then(|k| self.by_key.get(k)))
            .map(String::as_str)
    }

    /// The name attendance, participants and exports show for an alpha-2 code: its UN
    /// English short name (`un_name`), e.g. "Republic of Korea".
    pub fn name(&self, code: &str) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    /// Number of countries in the index.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no country is loaded.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> CountryIndex {
        let all = iso_countries();
        let rows = all
            .iter()
            .map(|c| (c.code.clone(), c.alpha3.clone(), c.un_name.clone()));
        let aliases: Vec<(String, String)> = all
            .iter()
            .flat_map(|c| c.aliases.iter().map(|a| (a.clone(), c.code.clone())))
            .collect();
        CountryIndex::new(rows, aliases)
    }

    #[test]
    fn every_iso_entry_is_present_with_three_digit_numeric() {
        let all = iso_countries();
        assert_eq!(all.len(), 249);
        assert!(all.iter().all(|c| c.numeric.len() == 3));
        let af = all
            .iter()
            .find(|c| c.code == "AF")
            .map(|c| c.numeric.clone());
        assert_eq!(af.as_deref(), Some("004"));
    }

    #[test]
    fn m49_names_are_used() {
        let all = iso_countries();
        let kh = all.iter().find(|c| c.code == "KH");
        assert_eq!(kh.and_then(|c| c.region.clone()).as_deref(), Some("Asia"));
        assert_eq!(
            kh.and_then(|c| c.subregion.clone()).as_deref(),
            Some("South-eastern Asia")
        );
    }

    #[test]
    fn un_names_come_from_m49_and_fall_back_to_iso() {
        let all = iso_countries();
        let names = |code: &str| {
            all.iter()
                .find(|c| c.code == code)
                .map(|c| (c.name.as_str(), c.un_name.as_str()))
        };
        for (code, un_name) in [
            ("KR", "Republic of Korea"),
            ("LA", "Lao People's Democratic Republic"),
            ("VN", "Viet Nam"),
            ("TR", "Türkiye"),
            ("BO", "Bolivia (Plurinational State of)"),
            ("TL", "Timor-Leste"),
            ("BN", "Brunei Darussalam"),
        ] {
            assert_eq!(names(code).map(|n| n.1), Some(un_name), "{code}");
        }
        // The ISO short name differs where the UN's does.
        assert_ne!(names("KR").map(|n| n.0), Some("Republic of Korea"));
        // An area M49 does not list (Taiwan) keeps its ISO short name.
        let (iso, un) = names("TW").unwrap_or_default();
        assert!(!iso.is_empty());
        assert_eq!(iso, un);
        assert_eq!(index().name("KR"), Some("Republic of Korea"));
    }

    #[test]
    fn formal_names_resolve() {
        let idx = index();
        for (input, code) in [
            ("the Socialist Republic of Vietnam", "VN"),
            ("the Democratic Republic of Timor-Leste", "TL"),
            ("the Republic of the Union of Myanmar", "MM"),
            ("the Kingdom of Cambodia", "KH"),
            ("Kingdom of Cambodia", "KH"),
            ("Republic of the Union of Myanmar", "MM"),
            ("Lao People's Democratic Republic", "LA"),
            ("Brunei Darussalam", "BN"),
            ("Republic of Korea", "KR"),
        ] {
            assert_eq!(idx.resolve(input), Some(code), "{input}");
        }
    }

    #[test]
    fn api_md_aliases_resolve() {
        let idx = index();
        for (input, code) in [
            ("Laos", "LA"),
            ("Lao PDR", "LA"),
            ("South Korea", "KR"),
            ("Republic of Korea", "KR"),
            ("Vietnam", "VN"),
            ("Viet Nam", "VN"),
            ("East Timor", "TL"),
            ("Brunei", "BN"),
            ("Türkiye", "TR"),
            ("Tu\u{308}rkiye", "TR"),
            ("Turkey", "TR"),
            ("khm", "KH"),
            ("kh", "KH"),
            ("  the philippines ", "PH"),
        ] {
            assert_eq!(idx.resolve(input), Some(code), "{input}");
        }
        assert_eq!(idx.resolve("Atlantis"), None);
    }
}
