//! ISO 3166-1 countries: reference data from the `keshvar` crate, and the gazetteer: the one
//! table of every name a country goes by (ISO and UN short names, formal names, aliases,
//! official abbreviations, Chinese names), which resolves country input everywhere in the API
//! ([`CountryIndex::lookup`]) and finds countries in prose ([`CountryIndex::find`]), so that
//! the API accepts as input exactly the names a drafted attendance recognises.
//!
//! Chinese names are the CLDR names `keshvar` carries (`zh_CN`, `zh_TW`, `zh_HK`), plus the
//! United Nations Chinese short and formal names where they differ ([`ZH_NAMES`]).
//!
//! Regions and subregions are the UN M49 names ("Asia", "South-eastern Asia"). Each country's
//! `un_name` is its UN M49 "Country or Area" name ("Republic of Korea", "Viet Nam"), from the
//! `codes-un-m49` crate 0.1.2, which generates it from the UN Statistics Division's M49
//! overview page (<https://unstats.un.org/unsd/methodology/m49/overview/>) as retrieved for
//! its release of 2022-12-25; an area M49 does not list keeps its ISO 3166-1 short name.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
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
    ("Republic of the Union of Myanmar", "MM"),
    ("PRC", "CN"),
    ("P.R. China", "CN"),
    ("LPDR", "LA"),
    ("Lao People’s Democratic Republic", "LA"),
    ("UAE", "AE"),
    ("US", "US"),
    ("Timor Leste", "TL"),
    ("Brunei Darussalam", "BN"),
    ("Republic of the Congo", "CG"),
    ("Congo-Brazzaville", "CG"),
    ("DR Congo", "CD"),
    ("DRC", "CD"),
    ("Congo-Kinshasa", "CD"),
    ("Democratic Republic of Congo", "CD"),
    ("U.S.", "US"),
    ("United States of America", "US"),
    ("Great Britain", "GB"),
    ("Republic of Guinea", "GN"),
    ("Guinea Bissau", "GW"),
    ("Commonwealth of Dominica", "DM"),
    ("Islamic Republic of Iran", "IR"),
    ("Russian Federation", "RU"),
    ("State of Palestine", "PS"),
];

/// Chinese names as the United Nations writes them (short and formal), and the common short
/// forms of the press, where they differ from the CLDR names `keshvar` carries.
pub const ZH_NAMES: &[(&str, &str)] = &[
    ("大韩民国", "KR"),
    ("韩国", "KR"),
    ("朝鲜民主主义人民共和国", "KP"),
    ("朝鲜", "KP"),
    ("老挝人民民主共和国", "LA"),
    ("老挝", "LA"),
    ("文莱达鲁萨兰国", "BN"),
    ("文莱", "BN"),
    ("中华人民共和国", "CN"),
    ("中国", "CN"),
    ("越南社会主义共和国", "VN"),
    ("柬埔寨王国", "KH"),
    ("泰王国", "TH"),
    ("印度尼西亚共和国", "ID"),
    ("印尼", "ID"),
    ("菲律宾共和国", "PH"),
    ("新加坡共和国", "SG"),
    ("缅甸联邦共和国", "MM"),
    ("东帝汶民主共和国", "TL"),
    ("蒙古国", "MN"),
    ("俄罗斯联邦", "RU"),
    ("伊朗伊斯兰共和国", "IR"),
    ("阿拉伯叙利亚共和国", "SY"),
    ("多民族玻利维亚国", "BO"),
    ("委内瑞拉玻利瓦尔共和国", "VE"),
    ("坦桑尼亚联合共和国", "TZ"),
    ("摩尔多瓦共和国", "MD"),
    ("大不列颠及北爱尔兰联合王国", "GB"),
    ("美利坚合众国", "US"),
    ("刚果共和国", "CG"),
    ("刚果（布）", "CG"),
    ("刚果(布)", "CG"),
    ("刚果（金）", "CD"),
    ("刚果(金)", "CD"),
    ("多米尼加", "DO"),
    ("密克罗尼西亚联邦", "FM"),
    ("北马其顿", "MK"),
    ("土耳其", "TR"),
];

/// Names that are several countries: never resolved, as input or in prose (the draft lists
/// them as unresolved with these candidates). They are taken out of every country's aliases.
pub const AMBIGUOUS: &[(&str, &[&str])] = &[
    ("Korea", &["KR", "KP"]),
    ("Corea", &["KR", "KP"]),
    ("Congo", &["CG", "CD"]),
    ("Kongo", &["CG", "CD"]),
    ("刚果", &["CG", "CD"]),
    ("Virgin Islands", &["VG", "VI"]),
];

/// Official abbreviations that are country names in prose only as written, in capitals
/// ("PRC", "ROK"): "us" or "uk" in lower case are not countries. Any other two- or
/// three-letter word is a country only as input (a code).
fn is_abbreviation(name: &str) -> bool {
    name.len() <= 5 && name.chars().all(|c| c.is_ascii_uppercase() || c == '.')
        || matches!(name, "Lao PDR" | "Lao P.D.R.")
}

/// Country names that are also given names: "Georgia Brown" is a person, not Georgia.
const GIVEN_NAMES: &[&str] = &["georgia", "jordan", "chad", "israel", "kenya", "india"];

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
            for (alias, target) in EXTRA_ALIASES.iter().chain(ZH_NAMES) {
                if *target == code {
                    add(alias);
                }
            }
            for lang in ["zh_CN", "zh_TW", "zh_HK", "zh"] {
                if let Some(name) = c.translations().get(lang) {
                    add(name);
                }
            }
            // A name of several countries is none of them.
            aliases.retain(|a| !AMBIGUOUS.iter().any(|(name, _)| normalise(name) == *a));
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

/// What a country input names ([`CountryIndex::lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// One country (alpha-2).
    Country(&'a str),
    /// A name of several countries ("Korea"), with their alpha-2 codes: never guessed.
    Ambiguous(&'a [String]),
    /// No country of the gazetteer.
    Unknown,
}

/// A country name found in prose by [`CountryIndex::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryMention {
    /// The name exactly as written (line breaks included).
    pub text: String,
    /// Start, in Unicode code points of the text searched.
    pub start: usize,
    /// End (exclusive), in Unicode code points.
    pub end: usize,
    /// Alpha-2 of the country; several when the name is ambiguous ([`AMBIGUOUS`]).
    pub codes: Vec<String>,
}

/// A text prepared for the gazetteer: lower case, each run of white space one space (so a
/// name broken over two lines is found), a hyphen at a line's end joined to the next line,
/// typographic apostrophes and hyphens as ASCII; with the way back to code points of the text
/// as submitted.
#[derive(Debug)]
pub struct Prose {
    /// The characters of the text as submitted.
    pub chars: Vec<char>,
    hay: String,
    /// For each byte offset of `hay` that starts a character: the code point of `chars` it
    /// comes from.
    origin: Vec<usize>,
}

impl Prose {
    /// Prepares `text`.
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut hay = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len() + 1);
        for (i, &c) in chars.iter().enumerate() {
            let mapped = if c.is_whitespace() {
                match hay.chars().next_back() {
                    Some(' ') | None => continue,
                    Some('-') if c == '\n' => continue,
                    _ => ' ',
                }
            } else {
                match c {
                    '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{2032}' => '\'',
                    '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' => '-',
                    c => {
                        let mut lower = c.to_lowercase();
                        match (lower.next(), lower.next()) {
                            (Some(l), None) => l,
                            _ => c,
                        }
                    }
                }
            };
            let at = hay.len();
            hay.push(mapped);
            origin.resize(hay.len(), usize::MAX);
            origin[at] = i;
        }
        origin.push(chars.len());
        Self { chars, hay, origin }
    }

    /// The code point of `chars` where the byte `at` of the prepared text comes from.
    fn point(&self, at: usize) -> usize {
        self.origin.get(at).copied().unwrap_or(self.chars.len())
    }

    /// The characters `start..end` of the text as submitted.
    pub fn slice(&self, start: usize, end: usize) -> String {
        let end = end.min(self.chars.len());
        if start >= end {
            return String::new();
        }
        self.chars[start..end].iter().collect()
    }
}

/// True for a character of a script written without spaces between words (Han, kana,
/// Hangul): names in it need no word boundary.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF | 0x3000..=0x303F)
}

/// A name of the prose matcher.
#[derive(Debug, Clone)]
struct Pattern {
    codes: Vec<String>,
    /// For a short name ("ROK"): the forms it must be written in, in capitals.
    exact: Option<Vec<String>>,
    /// Also a given name ([`GIVEN_NAMES`]).
    given_name: bool,
}

/// The gazetteer: every accepted input form to alpha-2 (codes, names, aliases, Chinese
/// names), the names of several countries ([`AMBIGUOUS`]), and a leftmost-longest matcher of
/// all names (codes excepted) for prose. Built from the database at start (countries are
/// reference data that never change while the server runs).
#[derive(Debug, Default, Clone)]
pub struct CountryIndex {
    by_key: HashMap<String, String>,
    ambiguous: HashMap<String, Vec<String>>,
    names: HashMap<String, String>,
    patterns: Vec<Pattern>,
    matcher: Option<AhoCorasick>,
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
        let ambiguous: HashMap<String, Vec<String>> = AMBIGUOUS
            .iter()
            .map(|(name, codes)| {
                (
                    normalise(name),
                    codes.iter().map(|c| c.to_string()).collect(),
                )
            })
            .collect();
        for key in ambiguous.keys() {
            by_key.remove(key);
        }
        // Prose: every name (codes excepted), then the ambiguous ones.
        let mut exact: HashMap<String, Vec<String>> = HashMap::new();
        for (name, _) in EXTRA_ALIASES {
            if is_abbreviation(name) {
                exact
                    .entry(normalise(name))
                    .or_default()
                    .push(name.to_string());
            }
        }
        let mut keys: Vec<(String, Vec<String>)> = by_key
            .iter()
            .map(|(k, c)| (k.clone(), vec![c.clone()]))
            .chain(ambiguous.iter().map(|(k, c)| (k.clone(), c.clone())))
            .collect();
        keys.sort();
        let mut patterns = Vec::new();
        let mut texts = Vec::new();
        for (key, codes) in keys {
            let letters = key.chars().filter(|c| c.is_alphanumeric()).count();
            let short = exact.get(&key).cloned();
            if short.is_none() && letters <= 3 && !key.chars().any(is_cjk) {
                continue; // a code or a short word: a country only as input
            }
            patterns.push(Pattern {
                given_name: GIVEN_NAMES.contains(&key.as_str()),
                exact: short,
                codes,
            });
            texts.push(key);
        }
        // Codes win over names when both match (e.g. "UK" is not a code, "US" is).
        for (code, alpha3, name) in countries {
            by_key.insert(code.to_lowercase(), code.clone());
            by_key.insert(alpha3.to_lowercase(), code.clone());
            names.insert(code.clone(), name);
        }
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&texts)
            .ok();
        Self {
            by_key,
            ambiguous,
            names,
            patterns,
            matcher,
        }
    }

    /// What an input names: a country (alpha-2, alpha-3, any name of the gazetteer, any
    /// letter case, with or without a leading "the"), a name of several countries, or none.
    pub fn lookup(&self, input: &str) -> Lookup<'_> {
        let key = normalise(input);
        let bare = key.strip_prefix("the ");
        if let Some(code) = self
            .by_key
            .get(&key)
            .or_else(|| bare.and_then(|k| self.by_key.get(k)))
        {
            return Lookup::Country(code);
        }
        match self
            .ambiguous
            .get(&key)
            .or_else(|| bare.and_then(|k| self.ambiguous.get(k)))
        {
            Some(codes) => Lookup::Ambiguous(codes),
            None => Lookup::Unknown,
        }
    }

    /// Alpha-2 for any accepted form (any letter case), or `None` for an unknown or ambiguous
    /// country.
    pub fn resolve(&self, input: &str) -> Option<&str> {
        match self.lookup(input) {
            Lookup::Country(code) => Some(code),
            _ => None,
        }
    }

    /// Alpha-2 for an input, or the field error to show: `unknown country: "Atlantis"`, or
    /// `"Korea" is several countries: KR, KP` (the caller names one of them).
    pub fn parse(&self, input: &str) -> Result<&str, String> {
        match self.lookup(input) {
            Lookup::Country(code) => Ok(code),
            Lookup::Ambiguous(codes) => Err(format!(
                "{:?} is several countries: {}; give one of them",
                input.trim(),
                codes.join(", ")
            )),
            Lookup::Unknown => Err(format!("unknown country: {:?}", input.trim())),
        }
    }

    /// Every country name of `prose`, in order, leftmost-longest ("Papua New Guinea" is not
    /// Guinea), with word boundaries for names in Latin script ("Nigeria" is not Niger; "China's"
    /// is China), short names ("ROK") only in capitals, and a country that is also a given
    /// name ("Georgia") skipped when it is a person's ("Ms. Georgia Lane", "Georgia Lane,").
    pub fn find(&self, prose: &Prose) -> Vec<CountryMention> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut from = 0;
        let hay = prose.hay.as_str();
        while from < hay.len() {
            let input = aho_corasick::Input::new(hay).span(from..hay.len());
            let Some(m) = matcher.find(input) else {
                break;
            };
            let start = prose.point(m.start());
            let last = hay[..m.end()]
                .char_indices()
                .next_back()
                .map_or(0, |(at, _)| at);
            let end = prose.point(last).saturating_add(1).min(prose.chars.len());
            let pattern = &self.patterns[m.pattern().as_usize()];
            if self.accepts(prose, start, end, pattern) {
                out.push(CountryMention {
                    text: prose.slice(start, end),
                    start,
                    end,
                    codes: pattern.codes.clone(),
                });
                from = m.end();
            } else {
                // Go on from the next character.
                from = m.start() + hay[m.start()..].chars().next().map_or(1, char::len_utf8);
            }
        }
        out
    }

    fn accepts(&self, prose: &Prose, start: usize, end: usize, pattern: &Pattern) -> bool {
        let chars = &prose.chars;
        let first = chars.get(start).copied().unwrap_or(' ');
        let last = chars.get(end.saturating_sub(1)).copied().unwrap_or(' ');
        let before = start.checked_sub(1).and_then(|i| chars.get(i)).copied();
        let after = chars.get(end).copied();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() && !is_cjk(c));
        if !is_cjk(first) && word(before) {
            return false;
        }
        if !is_cjk(last) && word(after) {
            return false;
        }
        if let Some(forms) = &pattern.exact {
            let written: String = prose
                .slice(start, end)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !forms.contains(&written) {
                return false;
            }
        }
        if pattern.given_name {
            // "Georgia Lane": a capitalised word right after, on the same line.
            let next_word = chars.get(end) == Some(&' ')
                && chars.get(end + 1).is_some_and(|c| c.is_uppercase());
            let after_word: String = chars[(end + 1).min(chars.len())..]
                .iter()
                .take_while(|c| c.is_alphabetic())
                .collect();
            let joins = matches!(after_word.as_str(), "And" | "The" | "As" | "Was" | "Is");
            let before_words: String = chars[start.saturating_sub(12)..start].iter().collect();
            let honorific = [
                "Mr. ", "Ms. ", "Mrs. ", "Dr. ", "Mr ", "Ms ", "Mrs ", "Dr ", "Prof. ",
            ]
            .iter()
            .any(|h| before_words.ends_with(h));
            if honorific || (next_word && !joins && self.resolve(&after_word).is_none()) {
                return false;
            }
        }
        true
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

    fn found(text: &str) -> Vec<(String, Vec<String>)> {
        let idx = index();
        idx.find(&Prose::new(text))
            .into_iter()
            .map(|m| (m.text, m.codes))
            .collect()
    }

    fn codes(text: &str) -> Vec<String> {
        found(text).into_iter().map(|(_, c)| c.join("|")).collect()
    }

    #[test]
    fn the_longest_name_wins() {
        assert_eq!(
            codes("Guinea, Papua New Guinea, Guinea-Bissau and Equatorial Guinea"),
            ["GN", "PG", "GW", "GQ"]
        );
        assert_eq!(
            codes("Niger and Nigeria; Nigeria's and Niger's"),
            ["NE", "NG", "NG", "NE"]
        );
        assert_eq!(
            codes("the Democratic Republic of the Congo, the Republic of the Congo, DR Congo"),
            ["CD", "CG", "CD"]
        );
        assert_eq!(codes("Sudan, South Sudan"), ["SD", "SS"]);
        assert_eq!(codes("Dominica and the Dominican Republic"), ["DM", "DO"]);
        assert_eq!(
            codes("Nigerian and Sudanese officials"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_name_of_several_countries_is_not_guessed() {
        assert_eq!(codes("Korea and Congo attended"), ["KR|KP", "CG|CD"]);
        assert_eq!(codes("the Republic of Korea and North Korea"), ["KR", "KP"]);
        let idx = index();
        assert_eq!(idx.resolve("Korea"), None);
        assert_eq!(idx.resolve("Congo"), None);
        assert!(matches!(idx.lookup("korea"), Lookup::Ambiguous(c) if c == ["KR", "KP"]));
        assert!(idx.parse("Congo").is_err_and(|e| e.contains("CG, CD")));
        assert_eq!(idx.resolve("Republic of the Congo"), Some("CG"));
    }

    #[test]
    fn georgia_the_state_and_georgia_a_person() {
        assert_eq!(codes("Georgia, Armenia and Azerbaijan"), ["GE", "AM", "AZ"]);
        assert_eq!(codes("Georgia attended as an observer"), ["GE"]);
        assert_eq!(codes("Ms. Georgia Lane, Director, Canada"), ["CA"]);
        assert_eq!(codes("Georgia Lane of Canada"), ["CA"]);
    }

    #[test]
    fn possessives_line_breaks_and_forms_as_written() {
        let f = found(
            "China's delegation, Papua New\nGuinea and the Lao People\u{2019}s Democratic Republic",
        );
        assert_eq!(f[0], ("China".to_string(), vec!["CN".to_string()]));
        assert_eq!(f[1].0, "Papua New\nGuinea");
        assert_eq!(f[1].1, ["PG"]);
        assert_eq!(f[2].1, ["LA"]);
        assert_eq!(codes("Guinea-\nBissau"), ["GW"]);
        assert_eq!(
            codes("Lao PDR, the ROK, the PRC, DPRK, UAE and the USA"),
            ["LA", "KR", "CN", "KP", "AE", "US"]
        );
        // Short words are countries only in capitals, never as codes in prose.
        assert_eq!(
            codes("join us in the uk; rok; CAN and the Prc"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "越南、老挝 and the Philippines";
        let idx = index();
        let m = idx.find(&Prose::new(text));
        let chars: Vec<char> = text.chars().collect();
        for x in &m {
            assert_eq!(chars[x.start..x.end].iter().collect::<String>(), x.text);
        }
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn chinese_names_without_spaces() {
        assert_eq!(
            codes("文莱、柬埔寨、印度尼西亚、老挝、大韩民国、韩国和东帝汶"),
            ["BN", "KH", "ID", "LA", "KR", "KR", "TL"]
        );
        assert_eq!(
            codes("巴布亚新几内亚、几内亚比绍、赤道几内亚、几内亚"),
            ["PG", "GW", "GQ", "GN"]
        );
        assert_eq!(
            codes("南苏丹和苏丹，尼日利亚和尼日尔"),
            ["SS", "SD", "NG", "NE"]
        );
        assert_eq!(
            codes("刚果民主共和国、刚果（布）、刚果"),
            ["CD", "CG", "CG|CD"]
        );
        assert_eq!(codes("多米尼克、多米尼加共和国"), ["DM", "DO"]);
    }

    #[test]
    fn input_accepts_what_prose_recognises() {
        let idx = index();
        for (input, code) in [
            ("老挝", "LA"),
            ("大韩民国", "KR"),
            ("PRC", "CN"),
            ("Papua New Guinea", "PG"),
            ("DR Congo", "CD"),
        ] {
            assert_eq!(idx.resolve(input), Some(code), "{input}");
        }
    }
}
