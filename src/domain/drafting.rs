//! Attendance drafted from a text (API.md, "Attendance from a text"): the parties a press
//! release, chair's statement or news article says took part (countries from the gazetteer,
//! [`CountryIndex::find`]; organisations from the register and from the forms prose uses),
//! their roles from the text's own words, the people it names with a position, and the names
//! it leaves unresolved. Pure: reads no database; the same text gives the same draft.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::country::{is_cjk, CountryIndex, Prose};
use super::vocab::DelegationRole;

/// The longest text drafted, in Unicode code points.
pub const MAX_TEXT: usize = 100_000;
/// The languages whose names the project has.
pub const LANGUAGES: &[&str] = &["en", "zh"];
/// Languages API.md names for which the project has no names yet (422 with that reason).
pub const LANGUAGES_WITHOUT_NAMES: &[&str] = &["fr", "es", "ru", "ar"];

/// An organisation of the register, as the draft matches it (by name in any letter case, or
/// by acronym as written).
#[derive(Debug, Clone)]
pub struct RegisteredOrganisation {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its acronym.
    pub acronym: Option<String>,
}

/// What the conference already says: its host country and its delegations (which win over
/// the text).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The conference's `host_country`.
    pub host_country: Option<String>,
    /// Delegations of countries: alpha-2 to role.
    pub countries: HashMap<String, DelegationRole>,
    /// Delegations of organisations: id to role.
    pub organisations: HashMap<Uuid, DelegationRole>,
}

/// A party of the draft: a country, an organisation of the register, or one not registered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PartyRef {
    /// `{"country": "LA"}`.
    Country {
        /// Alpha-2.
        country: String,
    },
    /// `{"organisation_id": ...}`.
    Registered {
        /// The register's id.
        organisation_id: Uuid,
    },
    /// `{"organisation": {"name", "acronym"}}`.
    New {
        /// As the text names it.
        organisation: NewOrganisation,
    },
}

/// An organisation the register does not have yet, as the text names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NewOrganisation {
    /// Its name as written (white space made single spaces).
    pub name: String,
    /// The acronym given in brackets, if any.
    pub acronym: Option<String>,
}

/// One mention: the text as written and its code-point offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// Exactly as written.
    pub text: String,
    /// Start (code points).
    pub start: usize,
    /// End, exclusive (code points).
    pub end: usize,
}

/// A party of the draft.
#[derive(Debug, Clone, Serialize)]
pub struct Party {
    /// Who.
    #[serde(flatten)]
    pub party: PartyRef,
    /// `host`, `member`, `observer` or `guest`.
    pub role: DelegationRole,
    /// True when the conference already has its delegation.
    pub registered: bool,
    /// Every mention, in order.
    pub mentions: Vec<Mention>,
}

/// A person the text names with a position.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    /// The name as written.
    pub full_name: String,
    /// Forms of address before the name (`"H.E. Ms."`), if any.
    pub honorific: Option<String>,
    /// The position (`"Deputy Minister of Home Affairs"`).
    pub position: String,
    /// The party the person belongs to, if the text says.
    pub party: Option<PartyRef>,
    /// The whole phrase naming the person.
    pub mention: Mention,
}

/// A name that could be several countries, or an acronym of a body the register does not
/// know: never guessed.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    /// As written.
    pub text: String,
    /// Start (code points).
    pub start: usize,
    /// End (code points).
    pub end: usize,
    /// The countries it could be (alpha-2); empty for an unknown acronym.
    pub candidates: Vec<String>,
}

/// The draft (the 200 body).
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// In order of first mention.
    pub parties: Vec<Party>,
    /// In order of mention.
    pub people: Vec<Person>,
    /// Ambiguous names.
    pub unresolved: Vec<Unresolved>,
    /// A body for `POST .../delegations` registering every party not yet registered.
    pub request: Value,
}

/// Suffixes of the names of international bodies, which take part as parties.
const ORG_SUFFIXES: &[&str] = &[
    "Organization",
    "Organisation",
    "Center",
    "Centre",
    "Secretariat",
    "Commission",
    "Office",
    "Agency",
    "Programme",
    "Program",
    "Fund",
    "Bank",
    "Institute",
    "Union",
    "Council",
    "Committee",
    "Network",
    "Alliance",
];
/// Suffixes of the names of a state's own bodies: a country named inside them belongs to
/// them, and they are not parties of their own.
const NATIONAL_SUFFIXES: &[&str] = &[
    "Administration",
    "Ministry",
    "Department",
    "Bureau",
    "Authority",
    "Police",
    "Directorate",
];
/// Words that may join the words of a name.
const JOINERS: &[&str] = &["of", "for", "on", "and", "&", "de"];
/// Regions that end an organisation's name after "in" ("Organization for Security and
/// Co-operation in Europe", "Conference on Interaction and Confidence-Building Measures in
/// Asia").
const NAME_REGIONS: &[&str] = &["Europe", "Asia", "Africa", "Americas", "Pacific"];
/// Capitalised words that never start a name.
const NOT_NAME: &[&str] = &[
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "By",
    "From",
    "With",
    "And",
    "Officials",
    "Relevant",
    "Representatives",
    "Delegates",
    "Delegations",
    "Also",
    "Both",
    "This",
    "These",
    "Its",
    "Their",
    "Observers",
    "Members",
    "Participants",
    "Guests",
    "Venue",
    "Host",
    "Chair",
    "Under",
];
/// Chinese suffixes of international bodies and of a state's own bodies.
const ZH_ORG_SUFFIXES: &[&str] = &[
    "组织",
    "中心",
    "秘书处",
    "委员会",
    "办事处",
    "基金",
    "银行",
    "论坛",
    "联盟",
];
const ZH_NATIONAL_SUFFIXES: &[&str] = &[
    "管理局",
    "移民局",
    "警察总署",
    "公安部",
    "内政部",
    "外交部",
    "移民厅",
    "移民总局",
];
/// Characters and words a Chinese name does not run across.
const ZH_STOPS: &[char] = &[
    '、', '，', '。', '；', '：', '（', '）', '(', ')', '《', '》', '“', '”', '\n', ' ', '和',
    '与', '的', '自', '由', '在', '有', '了', '及', '同', '等', ',', ';', ':',
];

/// Forms of address, longest first.
const HONORIFICS: &[&str] = &[
    "His Excellency",
    "Her Excellency",
    "H. E.",
    "H.E.",
    "Mr.",
    "Ms.",
    "Mrs.",
    "Dr.",
    "Prof.",
    "Hon.",
    "Mr",
    "Ms",
    "Mrs",
    "Dr",
];
/// Words a position begins with.
const POSITION_HEADS: &[&str] = &[
    "Minister",
    "Deputy",
    "Vice",
    "Secretary",
    "Secretary-General",
    "Director",
    "Director-General",
    "Head",
    "Chief",
    "Commissioner",
    "Ambassador",
    "Permanent",
    "Chair",
    "Chairman",
    "Chairperson",
    "President",
    "Executive",
    "Senior",
    "Under-Secretary",
    "Undersecretary",
    "Assistant",
    "Governor",
    "Representative",
    "Special",
    "Consul",
    "Counsellor",
    "Counselor",
    "General",
    "Acting",
    "Principal",
    "Regional",
    "Inspector",
    "Police",
    "Lieutenant",
    "Major",
    "Colonel",
    "Envoy",
    "Officer",
    "Programme",
    "Coordinator",
    "Adviser",
    "Advisor",
    "Prime",
    "First",
    "Second",
    "Cabinet",
];
/// Words of a position after a demonym ("Thai Deputy Prime Minister ...").
const POSITION_WORDS: &[&str] = &[
    "Minister",
    "Deputy",
    "Vice",
    "Prime",
    "Secretary",
    "Director",
    "Director-General",
    "General",
    "Head",
    "Chief",
    "Commissioner",
    "Ambassador",
    "Permanent",
    "Foreign",
    "Affairs",
    "Home",
    "Interior",
    "Justice",
    "Security",
    "Public",
    "Immigration",
    "Labour",
    "Labor",
    "Defence",
    "Defense",
    "State",
    "Senior",
    "Under-Secretary",
    "Police",
    "Border",
    "Affairs",
    "Of",
    "Transport",
    "Trade",
    "Finance",
    "Health",
    "National",
];
/// Demonyms: a person's country in "Thai Deputy Prime Minister ..." (not parties alone).
const DEMONYMS: &[(&str, &str)] = &[
    ("Thai", "TH"),
    ("Cambodian", "KH"),
    ("Lao", "LA"),
    ("Laotian", "LA"),
    ("Vietnamese", "VN"),
    ("Malaysian", "MY"),
    ("Indonesian", "ID"),
    ("Philippine", "PH"),
    ("Filipino", "PH"),
    ("Singaporean", "SG"),
    ("Bruneian", "BN"),
    ("Myanmar", "MM"),
    ("Chinese", "CN"),
    ("Japanese", "JP"),
    ("Indian", "IN"),
    ("Australian", "AU"),
    ("Nigerien", "NE"),
    ("Nigerian", "NG"),
    ("Sudanese", "SD"),
    ("Georgian", "GE"),
    ("Mongolian", "MN"),
    ("Bangladeshi", "BD"),
    ("Pakistani", "PK"),
    ("Nepali", "NP"),
    ("Timorese", "TL"),
    ("French", "FR"),
    ("German", "DE"),
    ("British", "GB"),
    ("American", "US"),
    ("Canadian", "CA"),
];
/// Chinese position words a person's name follows ("副部长黎文成").
const ZH_TITLES: &[&str] = &[
    "副部长",
    "部长",
    "副局长",
    "局长",
    "司长",
    "副司长",
    "署长",
    "主任",
    "副主任",
    "秘书长",
    "副秘书长",
    "总干事",
    "副总干事",
    "大使",
    "主席",
    "处长",
    "团长",
    "总监",
];

#[derive(Debug, Clone)]
struct Found {
    party: PartyRef,
    mention: Mention,
}

#[derive(Debug, Clone)]
struct OrgSpan {
    start: usize,
    end: usize,
    /// None: a state's own body (not a party).
    party: Option<PartyRef>,
    acronym: Option<String>,
}

/// Drafts the attendance of `text` (1..[`MAX_TEXT`] code points, checked by the caller) in
/// `language` (`en` or `zh`).
pub fn draft(
    text: &str,
    language: &str,
    countries: &CountryIndex,
    register: &[RegisteredOrganisation],
    settings: &Settings,
) -> Draft {
    let prose = Prose::new(text);
    let chars = &prose.chars;
    let mut orgs = find_organisations(&prose, register);
    if language == "zh" || chars.iter().any(|c| is_cjk(*c)) {
        orgs.extend(find_zh_organisations(&prose, register));
    }
    orgs.sort_by_key(|o| (o.start, std::cmp::Reverse(o.end)));
    let country_matches = countries.find(&prose);
    let mut kept: Vec<OrgSpan> = Vec::new();
    for o in orgs {
        if kept.last().is_some_and(|k| o.start < k.end) {
            continue;
        }
        // A country's formal name that began before the span holds it: "the Republic of the
        // Union of Myanmar" is a state, not a "Union".
        if country_matches
            .iter()
            .any(|m| m.start < o.start && m.end > o.start)
        {
            continue;
        }
        kept.push(o);
    }
    let orgs = kept;
    // A country inside an international body's name is part of that name ("the Asian
    // Development Bank"); inside a state's own body ("越南公安部", "the Immigration Bureau of
    // Thailand") it is the state that body serves, and a party.
    let inside = |start: usize, end: usize| {
        orgs.iter()
            .any(|o| o.party.is_some() && start >= o.start && end <= o.end)
    };
    let mut found: Vec<Found> = Vec::new();
    let mut unresolved = Vec::new();
    for m in country_matches {
        if inside(m.start, m.end) {
            continue;
        }
        let mention = Mention {
            text: m.text.clone(),
            start: m.start,
            end: m.end,
        };
        if m.codes.len() > 1 {
            unresolved.push(Unresolved {
                text: m.text,
                start: m.start,
                end: m.end,
                candidates: m.codes,
            });
        } else if let Some(code) = m.codes.into_iter().next() {
            found.push(Found {
                party: PartyRef::Country { country: code },
                mention,
            });
        }
    }
    for o in &orgs {
        if let Some(party) = &o.party {
            found.push(Found {
                party: party.clone(),
                mention: Mention {
                    text: prose.slice(o.start, o.end),
                    start: o.start,
                    end: o.end,
                },
            });
        }
    }
    // Later bare acronyms of an organisation found with its acronym in brackets.
    // Each (acronym, party) once, however often the name was written: a long text names
    // its bodies many times, and each pair scans the text.
    let mut acronyms: Vec<(String, PartyRef)> = Vec::new();
    for pair in orgs
        .iter()
        .filter_map(|o| Some((o.acronym.clone()?, o.party.clone()?)))
    {
        if !acronyms.contains(&pair) {
            acronyms.push(pair);
        }
    }
    for (acronym, party) in &acronyms {
        for (start, end) in words_exact(chars, acronym) {
            let covered = orgs.iter().any(|o| start < o.end && end > o.start)
                || found
                    .iter()
                    .any(|f| start < f.mention.end && end > f.mention.start);
            if !covered {
                found.push(Found {
                    party: party.clone(),
                    mention: Mention {
                        text: acronym.clone(),
                        start,
                        end,
                    },
                });
            }
        }
    }
    found.sort_by_key(|f| f.mention.start);
    unknown_acronyms(chars, &found, &orgs, &mut unresolved);
    let people = find_people(&prose, &found, &orgs);
    let roles = roles(&prose, &found);
    let mut parties: Vec<Party> = Vec::new();
    let mut index: HashMap<PartyRef, usize> = HashMap::new();
    let mut add = |party: &PartyRef, mention: Option<&Mention>, role: Option<DelegationRole>| {
        let i = *index.entry(party.clone()).or_insert_with(|| {
            parties.push(Party {
                party: party.clone(),
                role: DelegationRole::Member,
                registered: false,
                mentions: Vec::new(),
            });
            parties.len() - 1
        });
        if let Some(m) = mention {
            parties[i].mentions.push(m.clone());
        }
        if let Some(r) = role {
            // Host beats observer beats guest beats member when the text says several.
            let rank = |r: DelegationRole| match r {
                DelegationRole::Host => 3,
                DelegationRole::Observer => 2,
                DelegationRole::Guest => 1,
                DelegationRole::Member => 0,
            };
            if rank(r) > rank(parties[i].role) {
                parties[i].role = r;
            }
        }
    };
    for (i, f) in found.iter().enumerate() {
        add(&f.party, Some(&f.mention), roles[i]);
    }
    for p in &people {
        if let Some(party) = &p.party {
            add(party, None, None);
        }
    }
    // The conference's settings win over the text.
    for p in &mut parties {
        let setting = match &p.party {
            PartyRef::Country { country } => settings.countries.get(country).copied(),
            PartyRef::Registered { organisation_id } => {
                settings.organisations.get(organisation_id).copied()
            }
            PartyRef::New { .. } => None,
        };
        p.registered = setting.is_some();
        let is_host = matches!(&p.party, PartyRef::Country { country }
            if settings.host_country.as_deref() == Some(country.as_str()));
        if let Some(role) = setting {
            p.role = role;
        } else if is_host {
            p.role = DelegationRole::Host;
        }
    }
    let items: Vec<Value> = parties
        .iter()
        .filter(|p| !p.registered)
        .map(|p| {
            let mut item = match &p.party {
                PartyRef::Country { country } => json!({ "country": country }),
                PartyRef::Registered { organisation_id } => {
                    json!({ "organisation_id": organisation_id })
                }
                PartyRef::New { organisation } => json!({ "organisation": {
                    "name": organisation.name,
                    "acronym": organisation.acronym,
                    "kind": organisation_kind(&organisation.name),
                }}),
            };
            item["role"] = json!(p.role.as_str());
            item["status"] = json!("attended");
            item
        })
        .collect();
    Draft {
        parties,
        people,
        unresolved,
        request: json!({ "items": items }),
    }
}

/// Words in capitals that are no acronym of a body.
const NOT_ACRONYMS: &[&str] = &[
    "UTC", "GMT", "USD", "EUR", "AM", "PM", "QR", "PDF", "ID", "TV", "OK", "MR", "MRS", "MS", "DR",
    "HE", "HRH", "ASAP", "FAQ",
];

/// An acronym that names no body found ("representatives of UNHCR attended", with no UNHCR in
/// the register): not guessed as a party, but said, once, in `unresolved` with no candidates,
/// so that nothing the text names goes unseen. Two to ten capitals and digits with at least two
/// capitals, outside every name found and not the bracketed acronym of one (a state's own body,
/// "the National Immigration Administration (NIA)", is no party but is known), not a Roman numeral, not in a line in capitals (a
/// heading), not in [`NOT_ACRONYMS`].
fn unknown_acronyms(
    chars: &[char],
    found: &[Found],
    orgs: &[OrgSpan],
    unresolved: &mut Vec<Unresolved>,
) {
    let mut said: Vec<String> = unresolved.iter().map(|u| u.text.clone()).collect();
    for w in words(chars) {
        let t = text_of(chars, w);
        let n = t.chars().count();
        let capitals = t.chars().filter(char::is_ascii_uppercase).count();
        let acronym = (2..=10).contains(&n)
            && capitals >= 2
            && t.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '&');
        if !acronym
            || t.chars().all(|c| "IVXLCDM".contains(c))
            || NOT_ACRONYMS.contains(&t.as_str())
            || said.contains(&t)
            || orgs
                .iter()
                .any(|o| o.acronym.as_deref() == Some(t.as_str()))
        {
            continue;
        }
        let covered = |a: usize, b: usize| a < w.end && b > w.start;
        if found
            .iter()
            .any(|f| covered(f.mention.start, f.mention.end))
            || orgs.iter().any(|o| covered(o.start, o.end))
            || unresolved.iter().any(|u| covered(u.start, u.end))
        {
            continue;
        }
        let line_start = chars[..w.start]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |i| i + 1);
        let line_end = chars[w.end..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |i| w.end + i);
        if !chars[line_start..line_end].iter().any(|c| c.is_lowercase()) {
            continue;
        }
        said.push(t.clone());
        unresolved.push(Unresolved {
            text: t,
            start: w.start,
            end: w.end,
            candidates: Vec::new(),
        });
    }
    unresolved.sort_by_key(|u| u.start);
}

/// The kind a new organisation is registered with: `intergovernmental` when its name says
/// so, else `other` (the organiser corrects it in the register).
fn organisation_kind(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let words = [
        "international",
        "united nations",
        "regional",
        "asean",
        "intergovernmental",
        "lancang-mekong",
        "mekong",
        "国际",
        "联合国",
        "东盟",
        "澜湄",
    ];
    if words.iter().any(|w| n.contains(w)) {
        "intergovernmental"
    } else {
        "other"
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Occurrences of `word` written exactly so, as a whole word.
fn words_exact(chars: &[char], word: &str) -> Vec<(usize, usize)> {
    let w: Vec<char> = word.chars().collect();
    let mut out = Vec::new();
    if w.is_empty() || w.len() > chars.len() {
        return out;
    }
    for i in 0..=chars.len() - w.len() {
        if chars[i..i + w.len()] == w[..]
            && (i == 0 || !is_word_char(chars[i - 1]))
            && chars.get(i + w.len()).is_none_or(|c| !is_word_char(*c))
        {
            out.push((i, i + w.len()));
        }
    }
    out
}

/// A word of Latin-script prose: its code-point span.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

/// The words of the text: runs of letters, digits, `-`, `'` and `.` inside abbreviations.
fn words(chars: &[char]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_word_char(chars[i]) || chars[i] == '&' {
            let start = i;
            while i < chars.len()
                && (is_word_char(chars[i])
                    || (matches!(chars[i], '-' | '\'' | '\u{2019}')
                        && chars.get(i + 1).is_some_and(|c| is_word_char(*c))))
            {
                i += 1;
            }
            if start == i {
                i += 1;
            }
            out.push(Word { start, end: i });
        } else {
            i += 1;
        }
    }
    out
}

fn text_of(chars: &[char], w: Word) -> String {
    chars[w.start..w.end].iter().collect()
}

/// Only white space (no line break counted twice) lies between `a` and `b`.
fn spaced(chars: &[char], a: usize, b: usize) -> bool {
    b >= a && chars[a..b].iter().all(|c| *c == ' ' || *c == '\n') && b - a <= 2
}

fn capitalised(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// Organisations of the register (by name or acronym) and of the forms prose uses.
fn find_organisations(prose: &Prose, register: &[RegisteredOrganisation]) -> Vec<OrgSpan> {
    let chars = &prose.chars;
    let mut out = Vec::new();
    // The register, by name (any letter case).
    let names: Vec<String> = register
        .iter()
        .map(|o| o.name.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let flat: String = chars
        .iter()
        .map(|c| if c.is_whitespace() { ' ' } else { *c })
        .collect();
    let byte_to_cp: Vec<usize> = {
        let mut v = vec![0; flat.len() + 1];
        for (cp, (b, _)) in flat.char_indices().enumerate() {
            v[b] = cp;
        }
        v[flat.len()] = chars.len();
        v
    };
    if let Ok(matcher) = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(true)
        .build(&names)
    {
        for m in matcher.find_iter(&flat) {
            let start = byte_to_cp[m.start()];
            let end = byte_to_cp[m.end()];
            let ok = (start == 0 || !is_word_char(chars[start - 1]))
                && chars.get(end).is_none_or(|c| !is_word_char(*c));
            if ok {
                let org = &register[m.pattern().as_usize()];
                let (end, acronym) = bracketed_acronym(chars, end);
                out.push(OrgSpan {
                    start,
                    end,
                    party: (!is_national(&org.name)).then_some(PartyRef::Registered {
                        organisation_id: org.id,
                    }),
                    acronym,
                });
            }
        }
    }
    // The register's acronyms, as whole words in their own letter case: one pass over the
    // text for all of them (a register of thousands is read once, not once per acronym).
    let with_acronym: Vec<(&RegisteredOrganisation, &str)> = register
        .iter()
        .filter_map(|o| Some((o, o.acronym.as_deref()?)))
        .filter(|(_, a)| a.chars().count() >= 2 && !a.chars().any(char::is_whitespace))
        .collect();
    if let Ok(matcher) = AhoCorasick::new(with_acronym.iter().map(|(_, a)| a)) {
        for m in matcher.find_overlapping_iter(&flat) {
            let (start, end) = (byte_to_cp[m.start()], byte_to_cp[m.end()]);
            let whole = (start == 0 || !is_word_char(chars[start - 1]))
                && chars.get(end).is_none_or(|c| !is_word_char(*c));
            if whole {
                let org = with_acronym[m.pattern().as_usize()].0;
                out.push(OrgSpan {
                    start,
                    end,
                    party: (!is_national(&org.name)).then_some(PartyRef::Registered {
                        organisation_id: org.id,
                    }),
                    acronym: None,
                });
            }
        }
    }
    // The forms prose uses: capitalised words ending in a suffix, with "of"/"for" tails.
    let ws = words(chars);
    let registered_spans: Vec<(usize, usize)> = out.iter().map(|o| (o.start, o.end)).collect();
    let mut i = 0;
    while i < ws.len() {
        let t = text_of(chars, ws[i]);
        let national = NATIONAL_SUFFIXES.contains(&t.as_str());
        if !(ORG_SUFFIXES.contains(&t.as_str()) || national) {
            i += 1;
            continue;
        }
        // Backwards over capitalised words and joiners.
        let mut first = i;
        let mut j = i;
        while j > 0 {
            let prev = ws[j - 1];
            if !spaced(chars, prev.end, ws[j].start) {
                break;
            }
            let pt = text_of(chars, prev);
            // A heading in capitals on the line above ("CARIBBEAN BORDER SECURITY
            // WORKSHOP\nProgramme") is not the start of the name below it.
            let heading_above = chars[prev.end..ws[j].start].contains(&'\n')
                && pt.chars().any(char::is_alphabetic)
                && !pt.chars().any(char::is_lowercase);
            if heading_above {
                break;
            }
            let possessive = pt.ends_with("'s") || pt.ends_with("\u{2019}s");
            if capitalised(&pt) && !NOT_NAME.contains(&pt.as_str()) && !possessive {
                first = j - 1;
                j -= 1;
            } else if JOINERS.contains(&pt.as_str())
                && j >= 2
                && spaced(chars, ws[j - 2].end, prev.start)
                && capitalised(&text_of(chars, ws[j - 2]))
                && !NOT_NAME.contains(&text_of(chars, ws[j - 2]).as_str())
            {
                j -= 1;
            } else {
                break;
            }
        }
        // Forwards: "for Migration", "of the Pacific", "on Drugs and Crime".
        let mut last = i;
        let mut k = i + 1;
        let mut joined = false;
        while k < ws.len() {
            let kt = text_of(chars, ws[k]);
            if !spaced(chars, ws[k - 1].end, ws[k].start) {
                break;
            }
            let next_is_name = ws.get(k + 1).is_some_and(|n| {
                let nt = text_of(chars, *n);
                capitalised(&nt) && !NOT_NAME.contains(&nt.as_str())
            });
            // "in Europe": a region closes a name ("Co-operation in Europe"); a city does not
            // ("the Office in Bangkok" is the office, in Bangkok).
            let in_region = kt == "in"
                && ws
                    .get(k + 1)
                    .is_some_and(|n| NAME_REGIONS.contains(&text_of(chars, *n).as_str()));
            // "and" continues a name only inside its tail ("Office on Drugs and Crime"), not
            // right after its last word ("the ASEAN Secretariat and Japan" are two parties).
            if (JOINERS.contains(&kt.as_str()) && (kt != "and" || (next_is_name && joined)))
                || (kt == "the" && next_is_name && joined)
                || in_region
            {
                joined = true;
                k += 1;
                continue;
            }
            if capitalised(&kt) && !NOT_NAME.contains(&kt.as_str()) && (joined || national) {
                last = k;
                k += 1;
                continue;
            }
            break;
        }
        if first == i && last == i {
            i += 1;
            continue; // one word ("Office") is no name
        }
        let start = ws[first].start;
        let mut end = ws[last].end;
        let name_end = end;
        // A state's own service ("National Migration Service", "Immigration Office of
        // Seoul") is no international body, whatever its last word.
        let national = national
            || matches!(
                text_of(chars, ws[first]).as_str(),
                "National" | "Immigration" | "Royal" | "Federal" | "State" | "Border"
            );
        let (after, acronym) = bracketed_acronym(chars, end);
        end = after;
        // A state's body swallows its "of <country>" after the acronym too.
        if national {
            let rest: String = chars[end..(end + 4).min(chars.len())].iter().collect();
            if rest == " of " {
                let mut e = end + 4;
                let from = e;
                for w in ws.iter().filter(|w| w.start >= from) {
                    let wt = text_of(chars, *w);
                    if (capitalised(&wt) || wt == "the" || JOINERS.contains(&wt.as_str()))
                        && spaced(chars, e, w.start)
                    {
                        e = w.end;
                    } else {
                        break;
                    }
                }
                end = e;
            }
        }
        let overlaps = registered_spans
            .iter()
            .any(|(s, e)| start < *e && name_end > *s);
        if !overlaps {
            let name: String = prose
                .slice(start, name_end)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let named = register
                .iter()
                .find(|o| o.name.to_lowercase() == name.to_lowercase())
                .or_else(|| {
                    register
                        .iter()
                        .find(|o| acronym.is_some() && o.acronym == acronym)
                });
            let party = party_of(national, named, name, &acronym);
            out.push(OrgSpan {
                start,
                end,
                party,
                acronym,
            });
        }
        i = last + 1;
    }
    out
}

/// The party a body found in prose is: none for a state's own body, the registered
/// organisation it names, or a new organisation to register with its name and acronym.
fn party_of(
    national: bool,
    named: Option<&RegisteredOrganisation>,
    name: String,
    acronym: &Option<String>,
) -> Option<PartyRef> {
    if national {
        return None;
    }
    Some(match named {
        Some(org) => PartyRef::Registered {
            organisation_id: org.id,
        },
        None => PartyRef::New {
            organisation: NewOrganisation {
                name,
                acronym: acronym.clone(),
            },
        },
    })
}

/// True for the name of a state's own body ("National Immigration Administration"): its
/// last word is one of [`NATIONAL_SUFFIXES`] or its first word says it is national.
fn is_national(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    words.last().is_some_and(|w| NATIONAL_SUFFIXES.contains(w))
        || words.first().is_some_and(|w| *w == "National")
}

/// A bracketed acronym right after `end` (" (IOM)", "（IOM）"): the new end and the acronym.
fn bracketed_acronym(chars: &[char], end: usize) -> (usize, Option<String>) {
    let mut i = end;
    while chars.get(i) == Some(&' ') {
        i += 1;
    }
    if !matches!(chars.get(i), Some('(' | '（')) {
        return (end, None);
    }
    let open = i + 1;
    let mut j = open;
    while j < chars.len() && j - open <= 12 && !matches!(chars[j], ')' | '）') {
        j += 1;
    }
    let inner: String = chars[open..j.min(chars.len())].iter().collect();
    let looks = inner.chars().count() >= 2
        && inner.chars().any(|c| c.is_uppercase())
        && inner
            .chars()
            .all(|c| c.is_alphanumeric() && !is_cjk(c) || c == '-' || c == '&');
    if j < chars.len() && looks {
        (j + 1, Some(inner))
    } else {
        (end, None)
    }
}

/// Organisations in Chinese: a run of characters up to a suffix, after the last stop.
fn find_zh_organisations(prose: &Prose, register: &[RegisteredOrganisation]) -> Vec<OrgSpan> {
    let chars = &prose.chars;
    let mut out = Vec::new();
    let text: String = chars.iter().collect();
    let mut spans: Vec<(usize, usize, bool)> = Vec::new();
    for (suffixes, national) in [(ZH_NATIONAL_SUFFIXES, true), (ZH_ORG_SUFFIXES, false)] {
        for suffix in suffixes {
            let n = suffix.chars().count();
            for (b, _) in text.match_indices(suffix) {
                let start_of_suffix = text[..b].chars().count();
                let end = start_of_suffix + n;
                let mut start = start_of_suffix;
                while start > 0 && !ZH_STOPS.contains(&chars[start - 1]) && is_cjk(chars[start - 1])
                {
                    start -= 1;
                }
                if start + n + 1 < end + 1 && start < start_of_suffix {
                    spans.push((start, end, national));
                }
            }
        }
    }
    spans.sort();
    for (start, end, national) in spans {
        if out.iter().any(|o: &OrgSpan| start < o.end && end > o.start) {
            continue;
        }
        let name: String = prose.slice(start, end);
        let (after, acronym) = bracketed_acronym(chars, end);
        let named = register.iter().find(|o| {
            o.name == name || (acronym.is_some() && o.acronym.as_deref() == acronym.as_deref())
        });
        let party = party_of(national, named, name, &acronym);
        out.push(OrgSpan {
            start,
            end: after,
            party,
            acronym,
        });
    }
    out
}

/// Sentence breaks: the code points where a new sentence starts, and whether a blank line
/// precedes it (which ends a heading's section).
fn sentences(chars: &[char]) -> Vec<(usize, bool)> {
    let mut out = vec![(0, true)];
    let line_len = |from: usize, step_back: bool| -> usize {
        if step_back {
            let mut i = from;
            while i > 0 && chars[i - 1] != '\n' {
                i -= 1;
            }
            from - i
        } else {
            let mut i = from;
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            i - from
        }
    };
    let abbreviation = |i: usize| -> bool {
        // "Mr." "H.E." "Dr." "No.": a short word before the full stop.
        let mut j = i;
        while j > 0 && chars[j - 1].is_alphabetic() {
            j -= 1;
        }
        let w: String = chars[j..i].iter().collect();
        matches!(
            w.as_str(),
            "Mr" | "Ms" | "Mrs" | "Dr" | "Prof" | "Hon" | "No" | "St" | "Messrs"
        ) || (w.chars().count() == 1 && w.chars().all(char::is_uppercase))
    };
    for i in 0..chars.len() {
        let c = chars[i];
        match c {
            '。' | '！' | '？' | '；' | ';' => out.push((i + 1, false)),
            '.' | '!' | '?'
                if chars.get(i + 1).is_none_or(|n| n.is_whitespace()) && !abbreviation(i) =>
            {
                out.push((i + 1, false));
            }
            '\n' => {
                let blank = chars.get(i + 1) == Some(&'\n') || (i > 0 && chars[i - 1] == '\n');
                let prev = chars[..i].iter().rev().find(|c| !c.is_whitespace());
                let ends = prev.is_some_and(|p| ".:;!?。：；！？".contains(*p));
                let next: String = chars[i + 1..].iter().take(3).collect();
                let bullet = next.starts_with("- ")
                    || next.starts_with("* ")
                    || next.starts_with('•')
                    || next.chars().next().is_some_and(|c| c.is_ascii_digit());
                if blank
                    || ends
                    || bullet
                    || line_len(i, true) <= 60
                    || line_len(i + 1, false) <= 60
                {
                    out.push((i + 1, blank));
                }
            }
            _ => {}
        }
    }
    out
}

/// Gap text between two mentions that makes them one list ("A, B and the C").
fn is_list_gap(gap: &str) -> bool {
    let g = gap.to_lowercase();
    let mut rest = g
        .replace("as well as", ",")
        .replace("以及", ",")
        .replace('\n', " ");
    for w in [" the ", " and ", " & "] {
        rest = rest.replace(w, " , ");
    }
    let rest = format!(" {rest} ")
        .replace(" the ", " ")
        .replace(" and ", " ");
    rest.chars()
        .all(|c| matches!(c, ' ' | ',' | '、' | '和' | '及' | '与' | '-' | '•' | '*'))
}

const OBSERVER_AFTER: &[&str] = &[
    "as observer",
    "as an observer",
    "作为观察员",
    "以观察员身份",
    "观察员身份",
];
const GUEST_AFTER: &[&str] = &[
    "as guest",
    "as a guest",
    "as special guest",
    "作为嘉宾",
    "作为特邀嘉宾",
];
const HOST_AFTER: &[&str] = &[
    "hosted",
    "as host",
    "as the host",
    "the host",
    "as co-host",
    "co-hosted",
    "主办",
    "承办",
    "作为东道国",
    "作为东道主",
];
const HOST_BEFORE: &[&str] = &[
    "hosted by",
    "host country",
    "host:",
    "invitation of",
    "held in",
    "took place in",
    "主办方",
    "东道国",
    "东道主",
];

/// The role the text gives each found mention (in the order of `found`), or `None`.
fn roles(prose: &Prose, found: &[Found]) -> Vec<Option<DelegationRole>> {
    let chars = &prose.chars;
    let breaks = sentences(chars);
    let sentence_of = |at: usize| -> usize {
        match breaks.binary_search_by_key(&at, |b| b.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    };
    let mut out = vec![None; found.len()];
    // Runs: consecutive mentions of one sentence joined as a list.
    let mut runs: Vec<(usize, usize)> = Vec::new(); // (first, last) indices into found
    for i in 0..found.len() {
        if let Some(last) = runs.last_mut() {
            let prev = &found[last.1];
            let gap: String = prose.slice(prev.mention.end, found[i].mention.start);
            if sentence_of(prev.mention.start) == sentence_of(found[i].mention.start)
                && prev.mention.end <= found[i].mention.start
                && is_list_gap(&gap)
            {
                last.1 = i;
                continue;
            }
        }
        runs.push((i, i));
    }
    // Headings ("Observers:") give their role to the lines after them, until a blank line.
    let mut section: Vec<Option<DelegationRole>> = vec![None; breaks.len()];
    let mut current = None;
    for (s, (start, blank)) in breaks.iter().enumerate() {
        if *blank {
            current = None;
        }
        let end = breaks.get(s + 1).map_or(chars.len(), |b| b.0);
        let line: String = prose.slice(*start, end).trim().to_lowercase();
        if line.ends_with(':') || line.ends_with('：') {
            current = cue_role(&line, true);
            continue;
        }
        section[s] = current;
    }
    for (r, &(first, last)) in runs.iter().enumerate() {
        let s = sentence_of(found[first].mention.start);
        let sentence_start = breaks[s].0;
        let sentence_end = breaks.get(s + 1).map_or(chars.len(), |b| b.0);
        // Before: from the previous run of the sentence (or its start).
        let before_start = runs[..r]
            .iter()
            .rev()
            .map(|&(_, l)| found[l].mention.end)
            .find(|e| *e >= sentence_start && *e <= found[first].mention.start)
            .unwrap_or(sentence_start);
        let before = prose
            .slice(before_start, found[first].mention.start)
            .to_lowercase();
        // After: to the next run of the sentence (or its end).
        let after_end = runs
            .get(r + 1)
            .map(|&(f, _)| found[f].mention.start)
            .filter(|s| *s <= sentence_end)
            .unwrap_or(sentence_end);
        let after = prose
            .slice(
                found[last].mention.end,
                after_end.max(found[last].mention.end),
            )
            .to_lowercase();
        let had_previous = before_start > sentence_start;
        let role = trailing_role(&after).or_else(|| {
            // A cue before the run that a previous run of the sentence did not take.
            let taken = had_previous && trailing_role(&before).is_some();
            if taken {
                None
            } else {
                cue_role(&before, false)
            }
        });
        let role = role.or(section[s]);
        for slot in out.iter_mut().take(last + 1).skip(first) {
            *slot = role;
        }
    }
    out
}

/// The role a cue right after a list gives it ("... as observers", "... hosted the meeting").
/// "as well as" joins the next list, whose own cue it is ("A and B, as well as observers
/// from C": C observes, A and B do not).
fn trailing_role(after: &str) -> Option<DelegationRole> {
    let head: String = after.chars().take(48).collect();
    let head = head.replace("as well as", ",");
    let elsewhen = [
        "next",
        "will host",
        "to host",
        "previous",
        "last",
        "上届",
        "下届",
        "上一届",
        "下一届",
    ];
    if elsewhen.iter().any(|w| head.contains(w)) {
        return None;
    }
    let near = |cues: &[&str]| cues.iter().any(|c| head.contains(c));
    if near(OBSERVER_AFTER) {
        Some(DelegationRole::Observer)
    } else if near(GUEST_AFTER) {
        Some(DelegationRole::Guest)
    } else if near(HOST_AFTER) && !head.contains("hosted by") {
        Some(DelegationRole::Host)
    } else {
        None
    }
}

/// The role a cue before a list gives it ("observer states ...", "hosted by ...").
fn cue_role(before: &str, heading: bool) -> Option<DelegationRole> {
    if ["next", "previous", "上届", "下届"]
        .iter()
        .any(|w| before.contains(w))
    {
        return None;
    }
    if before.contains("observer") || before.contains("观察员") {
        Some(DelegationRole::Observer)
    } else if before.contains("guest") || before.contains("嘉宾") {
        Some(DelegationRole::Guest)
    } else if HOST_BEFORE.iter().any(|c| before.contains(c)) || (heading && before.contains("host"))
    {
        Some(DelegationRole::Host)
    } else {
        None
    }
}

/// People named with a position.
fn find_people(prose: &Prose, found: &[Found], orgs: &[OrgSpan]) -> Vec<Person> {
    let chars = &prose.chars;
    let ws = words(chars);
    let mut people: Vec<Person> = Vec::new();
    let breaks = sentences(chars);
    let line_start = |at: usize| -> usize {
        let mut i = at;
        while i > 0 && chars[i - 1] != '\n' {
            i -= 1;
        }
        i
    };
    let mention_at = |start: usize| found.iter().find(|f| f.mention.start == start);
    let covered = |a: usize, b: usize| {
        found
            .iter()
            .any(|f| a < f.mention.end && b > f.mention.start)
            || orgs.iter().any(|o| a < o.end && b > o.start)
    };
    // The party of a position that ends a clause: the first mention inside the position or
    // right after it, else the mention that starts the line ("Cambodia: H.E. ...").
    let party_after = |from: usize, to: usize| -> Option<&Found> {
        found
            .iter()
            .find(|f| f.mention.start >= from && f.mention.start <= to)
    };
    // 1. "[Honorific] Name, Position [of|,] Party".
    for (wi, w) in ws.iter().enumerate() {
        if chars.get(w.end) != Some(&',') {
            continue;
        }
        // The position after ", ".
        let Some(next) = ws.get(wi + 1) else { continue };
        if next.start != w.end + 2 {
            continue;
        }
        let head = text_of(chars, *next);
        if !POSITION_HEADS.contains(&head.as_str()) {
            continue;
        }
        // The name: capitalised words before the comma.
        let mut first = wi;
        while first > 0 {
            let p = ws[first - 1];
            let pt = text_of(chars, p);
            let particle = matches!(pt.as_str(), "bin" | "binti" | "van" | "de" | "da" | "al");
            if spaced(chars, p.end, ws[first].start)
                && chars[p.end..ws[first].start].iter().all(|c| *c == ' ')
                && (capitalised(&pt) || particle)
                && !NOT_NAME.contains(&pt.as_str())
                && !HONORIFICS.iter().any(|h| h.trim_end_matches('.') == pt)
                && wi - first < 4
            {
                first -= 1;
            } else {
                break;
            }
        }
        let name_start = ws[first].start;
        let name_end = w.end;
        let name = prose.slice(name_start, name_end);
        if wi == first && !name.contains(' ') {
            continue; // one word is no name
        }
        if !capitalised(&name) || covered(name_start, name_end) {
            continue;
        }
        // Honorifics before the name.
        let (honorific, phrase_start) = honorifics_before(chars, name_start);
        // The position: to the party or the clause's end.
        let clause_end = clause_end(chars, next.start, &breaks);
        let party = party_after(next.start, clause_end);
        let (position_end, party, mention_end) = match party {
            Some(f) => {
                let mut e = f.mention.start;
                let before: String = prose.slice(next.start, e);
                for tail in [
                    " of the ",
                    " of ",
                    ", ",
                    " for the ",
                    " for ",
                    " to the ",
                    " to ",
                    " the ",
                ] {
                    if before.ends_with(tail) {
                        e -= tail.chars().count();
                        break;
                    }
                }
                (e, Some(f.party.clone()), f.mention.end)
            }
            None => {
                let ls = line_start(phrase_start);
                let at_line = found.iter().find(|f| {
                    f.mention.start == ls
                        && matches!(chars.get(f.mention.end), Some(':' | '：' | ' ' | '-' | '–'))
                });
                (clause_end, at_line.map(|f| f.party.clone()), clause_end)
            }
        };
        let position: String = prose
            .slice(next.start, position_end)
            .trim_end_matches([',', ' ', ';'])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if position.is_empty() {
            continue;
        }
        people.push(Person {
            full_name: name.split_whitespace().collect::<Vec<_>>().join(" "),
            honorific,
            position,
            party,
            mention: Mention {
                text: prose.slice(phrase_start, mention_end),
                start: phrase_start,
                end: mention_end,
            },
        });
    }
    // 2. "Thai Deputy Prime Minister Somsak Chaiyo".
    for (wi, w) in ws.iter().enumerate() {
        let t = text_of(chars, *w);
        let Some((_, code)) = DEMONYMS.iter().find(|(d, _)| *d == t) else {
            continue;
        };
        if mention_at(w.start).is_some() && t != "Myanmar" && t != "Lao" {
            continue;
        }
        let mut k = wi + 1;
        while k < ws.len()
            && spaced(chars, ws[k - 1].end, ws[k].start)
            && (POSITION_WORDS.contains(&text_of(chars, ws[k]).as_str())
                || (matches!(text_of(chars, ws[k]).as_str(), "of" | "for" | "and")
                    && k + 1 < ws.len()
                    && POSITION_WORDS.contains(&text_of(chars, ws[k + 1]).as_str())))
        {
            k += 1;
        }
        if k == wi + 1
            || !POSITION_HEADS
                .iter()
                .any(|h| (wi + 1..k).any(|x| text_of(chars, ws[x]) == *h))
        {
            continue;
        }
        let position_end = ws[k - 1].end;
        let (honorific, name_from) = honorifics_after(chars, position_end);
        let mut n = ws
            .iter()
            .position(|x| x.start >= name_from)
            .unwrap_or(ws.len());
        let name_first = n;
        while n < ws.len()
            && n - name_first < 4
            && capitalised(&text_of(chars, ws[n]))
            && (n == name_first || chars[ws[n - 1].end..ws[n].start].iter().all(|c| *c == ' '))
            && (n == name_first || ws[n].start - ws[n - 1].end == 1)
        {
            n += 1;
        }
        if n - name_first < 2 {
            continue;
        }
        let name_start = ws[name_first].start;
        let name_end = ws[n - 1].end;
        if people
            .iter()
            .any(|p| p.mention.start <= name_start && p.mention.end >= name_end)
        {
            continue;
        }
        people.push(Person {
            full_name: prose.slice(name_start, name_end),
            honorific,
            position: prose
                .slice(ws[wi + 1].start, position_end)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            party: Some(PartyRef::Country {
                country: code.to_string(),
            }),
            mention: Mention {
                text: prose.slice(w.start, name_end),
                start: w.start,
                end: name_end,
            },
        });
    }
    // 3. Chinese: "<country>...<title><name>".
    let text: String = chars.iter().collect();
    for title in ZH_TITLES {
        let n = title.chars().count();
        for (b, _) in text.match_indices(title) {
            let at = text[..b].chars().count();
            let name_start = at + n;
            let mut name_end = name_start;
            while name_end < chars.len()
                && name_end - name_start < 8
                && (is_cjk(chars[name_end]) || chars[name_end] == '·')
                && !ZH_STOPS.contains(&chars[name_end])
                && !"出率先在表及与和等一为".contains(chars[name_end])
            {
                name_end += 1;
            }
            if name_end - name_start < 2
                || people
                    .iter()
                    .any(|p| p.mention.start <= at && p.mention.end > at)
            {
                continue;
            }
            // A longer title ending here ("副部长" over "部长") is the same person.
            let mut start = at;
            while start > 0 && !ZH_STOPS.contains(&chars[start - 1]) && is_cjk(chars[start - 1]) {
                start -= 1;
            }
            let country = found
                .iter()
                .find(|f| f.mention.start >= start && f.mention.end <= at)
                .map(|f| (f.party.clone(), f.mention.end));
            let org_country = orgs
                .iter()
                .find(|o| o.start >= start && o.end <= at + n)
                .and_then(|o| {
                    // The country inside a state's body ("中国国家移民管理局").
                    let inner = prose.slice(o.start, o.end);
                    let _ = inner;
                    o.party.clone().map(|p| (p, o.end))
                });
            let (party, position_start) = match country.or(org_country) {
                Some((p, e)) => (Some(p), e),
                None => (None, start),
            };
            people.push(Person {
                full_name: prose.slice(name_start, name_end),
                honorific: None,
                position: prose.slice(position_start, at + n),
                party,
                mention: Mention {
                    text: prose.slice(start, name_end),
                    start,
                    end: name_end,
                },
            });
        }
    }
    people.sort_by_key(|p| p.mention.start);
    people
}

/// Forms of address right before `at` ("H.E. Ms. "): them, and where the phrase starts.
fn honorifics_before(chars: &[char], at: usize) -> (Option<String>, usize) {
    let mut start = at;
    let mut got: Vec<&str> = Vec::new();
    loop {
        let before: String = chars[start.saturating_sub(16)..start].iter().collect();
        let Some(h) = HONORIFICS.iter().find(|h| {
            let with_space = format!("{h} ");
            before.ends_with(&with_space) && {
                let s = start - with_space.chars().count();
                s == 0 || !is_word_char(chars[s - 1])
            }
        }) else {
            break;
        };
        start -= h.chars().count() + 1;
        got.insert(0, h);
    }
    if got.is_empty() {
        (None, at)
    } else {
        (Some(got.join(" ")), start)
    }
}

/// Forms of address right after `at` (" H.E. Mr. "): them, and where the name starts.
fn honorifics_after(chars: &[char], at: usize) -> (Option<String>, usize) {
    let mut i = at;
    let mut got: Vec<&str> = Vec::new();
    loop {
        while chars.get(i) == Some(&' ') {
            i += 1;
        }
        let rest: String = chars[i..(i + 16).min(chars.len())].iter().collect();
        let Some(h) = HONORIFICS
            .iter()
            .find(|h| rest.starts_with(&format!("{h} ")))
        else {
            break;
        };
        i += h.chars().count();
        got.push(h);
    }
    (
        if got.is_empty() {
            None
        } else {
            Some(got.join(" "))
        },
        i,
    )
}

/// Where the clause from `from` ends: the sentence's end, a semicolon, a closing bracket, or
/// the start of the next person (", and H.E.", " and Mr.").
fn clause_end(chars: &[char], from: usize, breaks: &[(usize, bool)]) -> usize {
    let sentence_end = breaks
        .iter()
        .map(|b| b.0)
        .find(|b| *b > from)
        .unwrap_or(chars.len());
    let mut i = from;
    while i < sentence_end {
        if matches!(chars[i], ';' | ')' | '(' | '\n') {
            return i;
        }
        let rest: String = chars[i..(i + 14).min(chars.len())].iter().collect();
        if let Some(next) = rest
            .strip_prefix(" and ")
            .or_else(|| rest.strip_prefix(", "))
        {
            if HONORIFICS.iter().any(|h| next.starts_with(h)) {
                return i;
            }
        }
        if rest.starts_with(", and ") || rest.starts_with(", while ") {
            return i;
        }
        i += 1;
    }
    let mut e = sentence_end;
    while e > from && matches!(chars[e - 1], '.' | ' ' | '\n' | ',') {
        e -= 1;
    }
    e
}

/// A draft request: the text as submitted (not trimmed or normalised: offsets count its code
/// points) and its language.
#[derive(Debug, Clone)]
pub struct DraftRequest {
    /// 1..[`MAX_TEXT`] code points.
    pub text: String,
    /// `en` (default) or `zh`.
    pub language: &'static str,
}

/// Reads `{"text", "language"}`. Errors (field errors, 422): `text` missing, not a string,
/// empty or longer than [`MAX_TEXT`] code points; `language` not one of [`LANGUAGES`] (the
/// languages of [`LANGUAGES_WITHOUT_NAMES`] are refused with that reason); unknown fields.
pub fn parse_draft_request(body: &Value) -> Result<DraftRequest, super::input::Invalid> {
    use super::input::{Errors, Field, Obj};
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(DraftRequest {
            text: String::new(),
            language: "en",
        });
    };
    let text = match o.raw("text") {
        Field::Value(Value::String(s)) => {
            let n = s.chars().count();
            if n == 0 || n > MAX_TEXT || s.trim().is_empty() {
                errors.push("text", format!("must be 1 to {MAX_TEXT} characters"));
            }
            s.clone()
        }
        Field::Value(_) => {
            errors.push("text", "must be a string");
            String::new()
        }
        _ => {
            errors.push("text", "is required");
            String::new()
        }
    };
    let language = match o.raw("language") {
        Field::Absent => "en",
        Field::Value(Value::String(s)) => match LANGUAGES.iter().find(|l| **l == s.as_str()) {
            Some(l) => l,
            None if LANGUAGES_WITHOUT_NAMES.contains(&s.as_str()) => {
                errors.push(
                    "language",
                    format!("the project has no country names in {s:?} yet; use en or zh"),
                );
                "en"
            }
            None => {
                errors.push("language", "must be one of: en, zh");
                "en"
            }
        },
        _ => {
            errors.push("language", "must be one of: en, zh");
            "en"
        }
    };
    o.finish(&mut errors);
    errors.finish(DraftRequest { text, language })
}
