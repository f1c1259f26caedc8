//! Printable badges (`GET .../badges.html`, API.md "Badges, check-in and presence"): an HTML
//! page rendered from `templates/badges.html` with minijinja (HTML auto-escaping on), four
//! badges to an A4 page (two by two, each A6, with cut lines), for printing from a browser.
//!
//! Input: a [`Sheet`] (the store's: the conference and each accredited member with its
//! delegation and signed badge, in the order of the list of participants). Each badge shows the
//! conference's title and dates, the category as a coloured band **with its word** (colour is
//! never the only signal: the word is printed in the band), the honorific and name with the
//! family name in capitals (UN lists' usage), the name in its own script (`lang` from its
//! script, as in the List of Participants), the head of delegation marked, the delegation, and
//! the token as a QR code in inline SVG (ISO/IEC 18004, error correction level M, encoded by
//! the `qrcode` crate), which a scanner reads and verifies offline against the conference's key.
//! The page needs no network: the same [`super::participants::CONTENT_SECURITY_POLICY`] as
//! the List of Participants applies (inline SVG is markup, not a loaded resource).

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};
use serde::Serialize;

use super::participants::{date_range, native_lang, with_family_name_in_capitals};
use crate::domain::delegation::display_name;
use crate::domain::vocab::BadgeCategory;
use crate::error::ApiError;
use crate::store::badges::{Printed, Sheet};

/// Badges per printed page (A4 holds four A6 badges).
pub const PER_PAGE: usize = 4;

/// The template's name ([`super::render_page`]).
const TEMPLATE: &str = "badges.html";

/// Renders `sheet` as a complete HTML5 document in UTF-8, [`PER_PAGE`] badges to a page.
/// Errors: 500 when a token cannot be encoded as a QR code (longer than a version 40 code
/// holds: a bug, tokens are a few hundred bytes) or the template fails.
pub fn render_html(sheet: &Sheet) -> Result<String, ApiError> {
    // The QR codes are nearly all the work (the crate tries every mask: about 2 ms each in a
    // release build): made on every core, in slices of the list, each keeping its order.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let slice = sheet.badges.len().div_ceil(threads).max(1);
    let badges = std::thread::scope(|scope| {
        let parts: Vec<_> = sheet
            .badges
            .chunks(slice)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(BadgeOut::try_from)
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(sheet.badges.len());
        for part in parts {
            let made = part
                .join()
                .map_err(|_| ApiError::internal("badge QR codes: a thread panicked"))??;
            all.extend(made);
        }
        Ok::<_, ApiError>(all)
    })?;
    let page = Page {
        title: sheet.title.clone(),
        dates: date_range(sheet.dates.0, sheet.dates.1),
        pages: badges.chunks(PER_PAGE).map(<[BadgeOut]>::to_vec).collect(),
    };
    super::render_page(TEMPLATE, &page)
}

/// What the template prints, every text ready to show (and escaped by the template) but the
/// QR code's SVG, which is made here from the token alone.
#[derive(Debug, Serialize)]
struct Page {
    title: String,
    dates: String,
    pages: Vec<Vec<BadgeOut>>,
}

#[derive(Debug, Clone, Serialize)]
struct BadgeOut {
    member_id: String,
    version: i32,
    category: &'static str,
    category_word: &'static str,
    honorific: Option<String>,
    name: String,
    native_name: Option<String>,
    native_lang: Option<&'static str>,
    is_head: bool,
    delegation: String,
    qr_svg: String,
}

impl TryFrom<&Printed> for BadgeOut {
    type Error = ApiError;

    fn try_from(p: &Printed) -> Result<Self, ApiError> {
        let m = &p.member;
        let (name, acronym) = &p.delegation;
        Ok(BadgeOut {
            member_id: p.badge.member_id.to_string(),
            version: p.badge.version,
            category: p.badge.category.as_str(),
            category_word: category_word(p.badge.category),
            honorific: m.honorific.clone().filter(|s| !s.is_empty()),
            name: with_family_name_in_capitals(&m.full_name, m.family_name.as_deref()),
            native_lang: m.native_name.as_deref().and_then(|n| native_lang(n, None)),
            native_name: m
                .native_name
                .clone()
                .filter(|s| !s.is_empty() && *s != m.full_name),
            is_head: m.is_head,
            delegation: display_name(name, acronym.as_deref()),
            qr_svg: qr_svg(&p.badge.token)?,
        })
    }
}

/// The word printed in a category's band ("Delegate", "Observer", ...).
fn category_word(category: BadgeCategory) -> &'static str {
    match category {
        BadgeCategory::Party => "Delegate",
        BadgeCategory::Observer => "Observer",
        BadgeCategory::Organisation => "Organization",
        BadgeCategory::Vip => "VIP",
        BadgeCategory::Media => "Media",
        BadgeCategory::Secretariat => "Secretariat",
        BadgeCategory::Security => "Security",
    }
}

/// `token` as a QR code (level M), an `<svg>` element sized by the page's CSS: one unit per
/// module, a quiet zone of 4 modules (ISO/IEC 18004), and one path whose subpaths are the
/// horizontal runs of dark modules (a badge's token of about 320 bytes: 17 kB of SVG; the
/// `qrcode` crate's own SVG renderer, a subpath per module, made 46 kB of the same picture).
fn qr_svg(token: &str) -> Result<String, ApiError> {
    const QUIET: usize = 4;
    let code = QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::internal(format!("badge QR code: {e}")))?;
    let width = code.width();
    let modules = code.to_colors();
    let side = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width * 3);
    for (y, row) in modules.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                // Writing to a String cannot fail.
                let _ = write!(path, "M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET);
            } else {
                x += 1;
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vocab::MemberCategory;
    use crate::store::badges::Badge;
    use crate::store::participants::Participant;
    use chrono::Utc;
    use uuid::Uuid;

    fn printed(full_name: &str, native: Option<&str>, category: BadgeCategory) -> Printed {
        Printed {
            delegation: (
                "International Organization for Migration".into(),
                Some("IOM".into()),
            ),
            member: Participant {
                member_id: Uuid::nil(),
                honorific: Some("H.E. Ms.".into()),
                full_name: full_name.into(),
                family_name: full_name.split(' ').next().map(str::to_string),
                native_name: native.map(str::to_string),
                title: None,
                position: None,
                category: MemberCategory::Representative,
                is_head: true,
                email: Some(Some("lan@example.org".into())),
            },
            badge: Badge {
                member_id: Uuid::nil(),
                category,
                version: 2,
                status: crate::domain::vocab::BadgeStatus::Issued,
                token: "eyJhbGciOiJFZERTQSJ9.e30.c2ln".into(),
                issued_at: Utc::now(),
                collected_at: None,
            },
        }
    }

    fn sheet(badges: Vec<Printed>) -> Sheet {
        let day = chrono::NaiveDate::from_ymd_opt(2025, 9, 17).unwrap_or_default();
        Sheet {
            title: "Conference on <Regional> Migration Governance Policies".into(),
            dates: (day, day),
            badges,
        }
    }

    #[test]
    fn four_badges_to_a_page_with_word_colour_names_and_a_qr_code_each() {
        let badges = (0..5)
            .map(|_| printed("Nguyễn Lan", Some("阮兰"), BadgeCategory::Organisation))
            .collect();
        let html = render_html(&sheet(badges)).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert_eq!(html.matches(r#"<section class="sheet""#).count(), 2);
        assert_eq!(html.matches(r#"<article class="badge"#).count(), 5);
        assert_eq!(html.matches("<svg").count(), 5);
        assert!(!html.contains("<?xml"));
        assert!(html.contains(r#"viewBox="0 0 "#) && html.contains("h1v1h-1z"));
        assert!(html.contains(r#"data-category="organisation""#));
        assert!(
            html.contains(">Organization</"),
            "the word, not only the colour"
        );
        assert!(html.contains("NGUYỄN Lan"));
        assert!(html.contains(r#"<p class="native" lang="zh">阮兰</p>"#));
        assert!(html.contains("International Organization for Migration (IOM)"));
        assert!(html.contains("Head of Delegation"));
        assert!(html.contains("&lt;Regional&gt;") && !html.contains("<Regional>"));
        assert!(!html.contains("lan@example.org"), "never an email");
    }

    #[test]
    fn a_native_name_equal_to_the_latin_one_is_printed_once_and_no_badge_is_said() {
        let html = render_html(&sheet(vec![printed(
            "Ana Silva",
            Some("Ana Silva"),
            BadgeCategory::Vip,
        )]))
        .unwrap_or_default();
        assert!(!html.contains(r#"class="native""#), "{html}");
        assert!(html.contains(">VIP</"));
        let empty = render_html(&sheet(Vec::new())).unwrap_or_default();
        assert!(empty.contains("No accepted member has a badge"), "{empty}");
        assert_eq!(empty.matches("<svg").count(), 0);
    }
}
