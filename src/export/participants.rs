//! The printable List of Participants (`GET .../participants.html`, and an edition's `.html`):
//! an HTML page rendered from `templates/participants.html` (compiled in) with `minijinja`,
//! whose HTML auto-escaping is on for every `.html` template, so no stored text can add markup.
//!
//! Input: the JSON body of `GET /conferences/{id}/participants`
//! ([`crate::store::participants::Participants`]), as a struct or as a `serde_json::Value`
//! (an edition's stored snapshot), optionally with an `edition` object
//! (`{"kind", "number", "as_of"}`), which the heading then names. The page shows the
//! conference's title, theme, venue and dates, then each section with its delegations (name,
//! acronym, authority) and their members: honorific, full name with the family name in
//! capitals (UN lists' usage, when `family_name` is given and part of `full_name`), the name
//! in its own script (`native_name`, marked with a `lang` for CJK scripts), title and
//! position, the head marked. It never shows an email or a gender, whatever the body holds.
//!
//! The page needs no network: inline CSS (A4 print styles: `@page { size: A4 }`, no page
//! break inside a delegation), no script, image, font or link; [`CONTENT_SECURITY_POLICY`]
//! makes a browser refuse anything else.

use chrono::{DateTime, Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::country;
use crate::domain::vocab::Section;
use crate::error::ApiError;

/// The media type of the page.
pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The `Content-Security-Policy` of the page: nothing may load but its inline styles (and the
/// empty `data:` favicon that keeps browsers from asking for `/favicon.ico`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The template's name ([`super::render_page`]).
const TEMPLATE: &str = "participants.html";

/// Renders the list of participants `view` (the body of `GET .../participants`, with an
/// optional `edition`) as a complete HTML5 document in UTF-8.
///
/// Errors: 500 when `view` does not have the shape of that body (a bug: bodies come from the
/// store or from a stored snapshot of it), or the template fails.
pub fn render_html(view: &impl Serialize) -> Result<String, ApiError> {
    let value = serde_json::to_value(view).map_err(ApiError::internal)?;
    let body: Body = serde_json::from_value(value)
        .map_err(|e| ApiError::internal(format!("list of participants: {e}")))?;
    let page = Page::try_from(body)?;
    super::render_page(TEMPLATE, &page)
}

/// The part of the participants body the page reads (other keys, `email` among them, are
/// ignored).
#[derive(Debug, Deserialize)]
struct Body {
    conference: ConferenceIn,
    delegations: Vec<DelegationIn>,
    #[serde(default)]
    edition: Option<EditionIn>,
}

#[derive(Debug, Deserialize)]
struct ConferenceIn {
    title: String,
    theme: Option<String>,
    start_date: NaiveDate,
    end_date: NaiveDate,
    /// IANA name; an edition's date and time are printed in it (UTC if unknown).
    #[serde(default)]
    time_zone: Option<String>,
    venue: VenueIn,
}

#[derive(Debug, Deserialize)]
struct VenueIn {
    name: Option<String>,
    city: String,
    region: Option<String>,
    country: String,
}

#[derive(Debug, Deserialize)]
struct EditionIn {
    kind: Option<String>,
    number: Option<serde_json::Value>,
    as_of: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DelegationIn {
    section: String,
    #[serde(default)]
    country: Option<String>,
    name: String,
    acronym: Option<String>,
    authority: Option<String>,
    #[serde(default)]
    members: Vec<MemberIn>,
}

#[derive(Debug, Deserialize)]
struct MemberIn {
    honorific: Option<String>,
    full_name: String,
    family_name: Option<String>,
    native_name: Option<String>,
    title: Option<String>,
    position: Option<String>,
    #[serde(default)]
    category: Option<String>,
    is_head: bool,
}

/// What the template prints, every text ready to show (and escaped by the template).
#[derive(Debug, Serialize)]
struct Page {
    title: String,
    theme: Option<String>,
    venue: String,
    dates: String,
    edition: Option<String>,
    /// The running title of every printed page, as a CSS string (escaped by [`css_string`],
    /// inserted into the page's print styles as is).
    running_title_css: String,
    sections: Vec<SectionOut>,
    /// "15 delegations, 1 participant".
    summary: String,
}

#[derive(Debug, Serialize)]
struct SectionOut {
    key: &'static str,
    heading: &'static str,
    delegations: Vec<DelegationOut>,
}

#[derive(Debug, Serialize)]
struct DelegationOut {
    name: String,
    acronym: Option<String>,
    authority: Option<String>,
    members: Vec<MemberOut>,
}

#[derive(Debug, Serialize)]
struct MemberOut {
    honorific: Option<String>,
    name: String,
    native_name: Option<String>,
    native_lang: Option<&'static str>,
    function: Option<String>,
    /// "Alternate", "Adviser"...: printed for every member but the head.
    category: Option<&'static str>,
    is_head: bool,
}

impl TryFrom<Body> for Page {
    type Error = ApiError;

    fn try_from(body: Body) -> Result<Self, ApiError> {
        let c = body.conference;
        let mut sections: Vec<SectionOut> = Vec::new();
        let mut participant_count = 0;
        let delegation_count = body.delegations.len();
        for d in body.delegations {
            let section = Section::parse(&d.section).ok_or_else(|| {
                ApiError::internal(format!("list of participants: section {:?}", d.section))
            })?;
            participant_count += d.members.len();
            let country = d.country.clone();
            let delegation = DelegationOut {
                name: d.name,
                acronym: d.acronym,
                authority: d.authority,
                members: d
                    .members
                    .into_iter()
                    .map(|m| MemberOut::of(m, country.as_deref()))
                    .collect(),
            };
            // The body lists sections together and in order; a new heading starts whenever
            // the section changes.
            match sections.last_mut() {
                Some(last) if last.key == section.as_str() => last.delegations.push(delegation),
                _ => sections.push(SectionOut {
                    key: section.as_str(),
                    heading: section.heading(),
                    delegations: vec![delegation],
                }),
            }
        }
        let venue = [
            c.venue.name,
            Some(c.venue.city),
            c.venue.region,
            Some(country::un_name(&c.venue.country).map_or(c.venue.country, str::to_string)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let zone = c
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        let edition = body.edition.map(|e| edition_label(e, zone));
        let running = match &edition {
            Some(e) => format!("List of Participants: {} ({e})", c.title),
            None => format!("List of Participants: {}", c.title),
        };
        Ok(Page {
            running_title_css: css_string(&running),
            title: c.title,
            theme: c.theme,
            venue,
            dates: date_range(c.start_date, c.end_date),
            edition,
            sections,
            summary: format!(
                "{}, {}",
                count(delegation_count, "delegation"),
                count(participant_count, "participant")
            ),
        })
    }
}

impl MemberOut {
    /// Member `m` of a delegation of `country` (alpha-2; none for an organisation).
    fn of(m: MemberIn, country: Option<&str>) -> Self {
        let name = with_family_name_in_capitals(&m.full_name, m.family_name.as_deref());
        let function = [m.title, m.position]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        // A name in its own script equal to the Latin one is printed once.
        let native_name = m.native_name.filter(|s| !s.is_empty() && *s != m.full_name);
        MemberOut {
            honorific: m.honorific.filter(|s| !s.is_empty()),
            name,
            native_lang: native_name.as_deref().and_then(|n| native_lang(n, country)),
            native_name,
            function: (!function.is_empty()).then(|| function.join(", ")),
            category: (!m.is_head)
                .then(|| m.category.as_deref().and_then(category_label))
                .flatten(),
            is_head: m.is_head,
        }
    }
}

/// How a member's category is printed.
fn category_label(category: &str) -> Option<&'static str> {
    Some(match category {
        "representative" => "Representative",
        "alternate" => "Alternate",
        "adviser" => "Adviser",
        "expert" => "Expert",
        "observer" => "Observer",
        "support" => "Support staff",
        _ => return None,
    })
}

/// `text` as a CSS string literal (CSS Syntax Level 3, §4.3.5): quoted, every character but
/// ASCII letters, digits and spaces written as a hexadecimal escape, so that nothing in it can
/// close the string or the `<style>` element it stands in.
fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        }
    }
    out.push('"');
    out
}

/// "1 delegation", "15 delegations".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `full_name` with its first occurrence of `family_name` in capitals ("Nguyễn Văn An",
/// "Nguyễn" -> "NGUYỄN Văn An"); unchanged when the family name is not given or not in it.
pub(crate) fn with_family_name_in_capitals(full_name: &str, family_name: Option<&str>) -> String {
    match family_name
        .filter(|f| !f.is_empty())
        .and_then(|f| full_name.find(f).map(|at| (at, f)))
    {
        Some((at, family)) => format!(
            "{}{}{}",
            &full_name[..at],
            family.to_uppercase(),
            &full_name[at + family.len()..]
        ),
        None => full_name.to_string(),
    }
}

/// The BCP 47 language a `native_name` is most likely in, from its script and, for names in
/// Han characters alone, the delegation's country (`country`, alpha-2): Hangul `ko`, kana
/// `ja`; Han alone `ja` for Japan, `ko` for the Koreas, `zh-Hant` for Taiwan, Hong Kong and
/// Macao, else `zh`; Thai `th`, Lao `lo`, Khmer `km`, Myanmar `my`; `None` otherwise. Browsers
/// pick the matching glyphs (a Japanese name tagged `zh` prints in Chinese glyph forms) and
/// fonts by it.
pub(crate) fn native_lang(name: &str, country: Option<&str>) -> Option<&'static str> {
    let has = |ranges: &[(char, char)]| {
        name.chars()
            .any(|c| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)))
    };
    if has(&[
        ('\u{1100}', '\u{11FF}'),
        ('\u{3130}', '\u{318F}'),
        ('\u{AC00}', '\u{D7AF}'),
    ]) {
        Some("ko")
    } else if has(&[('\u{3040}', '\u{30FF}')]) {
        Some("ja")
    } else if has(&[
        ('\u{3400}', '\u{4DBF}'),
        ('\u{4E00}', '\u{9FFF}'),
        ('\u{F900}', '\u{FAFF}'),
    ]) {
        Some(match country {
            Some("JP") => "ja",
            Some("KR" | "KP") => "ko",
            Some("TW" | "HK" | "MO") => "zh-Hant",
            _ => "zh",
        })
    } else if has(&[('\u{0E00}', '\u{0E7F}')]) {
        Some("th")
    } else if has(&[('\u{0E80}', '\u{0EFF}')]) {
        Some("lo")
    } else if has(&[('\u{1780}', '\u{17FF}')]) {
        Some("km")
    } else if has(&[('\u{1000}', '\u{109F}')]) {
        Some("my")
    } else {
        None
    }
}

/// "17 September 2025", "26–28 June 2023", "30 June – 2 July 2023", "31 December 2025 –
/// 2 January 2026".
pub(crate) fn date_range(start: NaiveDate, end: NaiveDate) -> String {
    let full = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    if start >= end {
        full(start)
    } else if (start.year(), start.month()) == (end.year(), end.month()) {
        format!("{}–{}", start.day(), full(end))
    } else if start.year() == end.year() {
        format!("{} – {}", start.format("%-d %B"), full(end))
    } else {
        format!("{} – {}", full(start), full(end))
    }
}

/// "Provisional edition no. 2, as of 17 September 2025, 16:30 (UTC+08:00)" from an edition
/// object (`as_of` RFC 3339, printed in the conference's zone `zone`; as given when it is
/// not RFC 3339).
fn edition_label(e: EditionIn, zone: chrono_tz::Tz) -> String {
    let mut label = match e.kind.as_deref() {
        Some("final") => "Final edition".to_string(),
        Some("provisional") => "Provisional edition".to_string(),
        Some(other) => format!("Edition ({other})"),
        None => "Edition".to_string(),
    };
    match e.number {
        Some(serde_json::Value::Number(n)) => label.push_str(&format!(" no. {n}")),
        Some(serde_json::Value::String(n)) => label.push_str(&format!(" no. {n}")),
        _ => {}
    }
    if let Some(as_of) = e.as_of {
        let shown = DateTime::parse_from_rfc3339(&as_of).map_or(as_of, |t| {
            let local = t.with_timezone(&zone);
            let offset = local.format("%:z").to_string();
            let offset = if offset == "+00:00" {
                String::new()
            } else {
                offset
            };
            format!("{} (UTC{offset})", local.format("%-d %B %Y, %H:%M"))
        });
        label.push_str(&format!(", as of {shown}"));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(members: serde_json::Value) -> serde_json::Value {
        json!({
            "conference": {
                "id": "019954f8-9000-7a00-8000-17a9f0c0e000",
                "title": "Conference on Regional Migration Governance Policies",
                "theme": null,
                "start_date": "2025-09-17",
                "end_date": "2025-09-17",
                "time_zone": "Asia/Shanghai",
                "venue": {"name": null, "city": "Lianyungang", "region": "Jiangsu", "country": "CN"}
            },
            "delegations": [
                {"section": "states", "name": "China", "acronym": null,
                 "authority": "National Immigration Administration", "members": members},
                {"section": "states", "name": "Viet Nam", "acronym": null, "authority": null,
                 "members": []},
                {"section": "intergovernmental_organisations",
                 "name": "International Organization for Migration", "acronym": "IOM",
                 "authority": null, "members": []}
            ]
        })
    }

    #[test]
    fn the_page_names_the_conference_sections_and_members_and_escapes_text() {
        let html = render_html(&body(json!([
            {"honorific": "H.E.", "full_name": "Wang Wei", "family_name": "Wang",
             "native_name": "王伟", "title": "Director-General", "position": null,
             "category": "representative", "is_head": true, "email": "wang@example.cn"},
            {"honorific": null, "full_name": "<script>alert(1)</script>", "family_name": null,
             "native_name": null, "title": null, "position": "\"></li><b>x",
             "category": "adviser", "is_head": false}
        ])));
        let html = html.unwrap_or_else(|e| panic!("{e:?}"));
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains("Lianyungang, Jiangsu, China, 17 September 2025"));
        assert_eq!(html.matches(r#"<h2 class="section""#).count(), 2);
        assert!(
            html.contains(">States</h2>") && html.contains(">Intergovernmental organizations</h2>")
        );
        assert!(html.contains("H.E. WANG Wei"));
        assert!(html.contains(r#"<span class="native" lang="zh">王伟</span>"#));
        assert!(html.contains("(Head of Delegation)"));
        // Each member's category, but the head's (who is marked as such).
        assert!(
            html.contains(r#"<span class="category">(Adviser)</span>"#),
            "{html}"
        );
        assert!(!html.contains("(Representative)"));
        assert!(html.contains("International Organization for Migration (IOM)"));
        assert!(
            !html.contains("<script>")
                && html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
        );
        assert!(!html.contains("<b>x") && html.contains("&quot;&gt;&lt;&#x2f;li&gt;&lt;b&gt;x"));
        assert!(!html.contains("wang@example.cn"), "never an email");
        assert!(html.contains("3 delegations, 2 participants"));
    }

    #[test]
    fn an_edition_is_named_in_the_heading() {
        let mut b = body(json!([]));
        b["edition"] = json!({"kind": "final", "number": 3, "as_of": "2025-09-18T08:30:00Z"});
        let html = render_html(&b).unwrap_or_default();
        assert!(html.contains("3 delegations, 0 participants"));
        // In the conference's zone (the body's Asia/Shanghai), with its offset.
        assert!(
            html.contains("Final edition no. 3, as of 18 September 2025, 16:30 (UTC+08:00)"),
            "{html}"
        );
        assert!(
            html.contains("@top-center"),
            "a running title on every page"
        );
    }

    #[test]
    fn a_body_of_another_shape_is_an_error() {
        assert!(render_html(&json!({"delegations": []})).is_err());
        let mut b = body(json!([]));
        b["delegations"][0]["section"] = json!("members");
        assert!(render_html(&b).is_err());
    }

    #[test]
    fn dates_family_names_and_scripts() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(
            date_range(d("2023-06-26"), d("2023-06-28")),
            "26–28 June 2023"
        );
        assert_eq!(
            date_range(d("2023-06-30"), d("2023-07-02")),
            "30 June – 2 July 2023"
        );
        assert_eq!(
            date_range(d("2025-12-31"), d("2026-01-02")),
            "31 December 2025 – 2 January 2026"
        );
        assert_eq!(
            with_family_name_in_capitals("Nguyễn Văn An", Some("Nguyễn")),
            "NGUYỄN Văn An"
        );
        assert_eq!(
            with_family_name_in_capitals("Ana Silva", Some("Costa")),
            "Ana Silva"
        );
        assert_eq!(native_lang("김민준", None), Some("ko"));
        assert_eq!(native_lang("张伟", Some("CN")), Some("zh"));
        // Once tagged zh, and printed in Chinese glyph forms.
        assert_eq!(native_lang("山田太郎", Some("JP")), Some("ja"));
        assert_eq!(native_lang("蔡英文", Some("TW")), Some("zh-Hant"));
        assert_eq!(native_lang("สมชาย วงศ์สวัสดิ์", Some("TH")), Some("th"));
        assert_eq!(native_lang("ហ៊ុន ម៉ាណែត", Some("KH")), Some("km"));
        assert_eq!(native_lang("Nguyễn Văn An", Some("VN")), None);
        assert_eq!(
            css_string("A \"b\" </style>"),
            "\"A \\22 b\\22  \\3c \\2f style\\3e \""
        );
    }
}
