//! File exports of a conference: spreadsheets (CSV, RFC 4180, [`table`]), calendars
//! (iCalendar, RFC 5545, [`calendar`]), the printable List of Participants (HTML,
//! [`participants`]) and printable badges (HTML, [`badges`]). Routes load the data through the
//! store and hand it to these renderers, which only format.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::ApiError;

pub mod badges;
pub mod calendar;
pub mod participants;
pub mod table;

/// The printable pages' templates (`templates/*.html`, compiled in), built once: strict about
/// undefined values, so a template that names a field its page model lacks fails (in the
/// tests) instead of printing nothing; every name ends in `.html`, which turns minijinja's HTML
/// auto-escaping on, so no stored text can add markup.
static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template(
        "participants.html",
        include_str!("../../templates/participants.html"),
    )?;
    env.add_template("badges.html", include_str!("../../templates/badges.html"))?;
    Ok(env)
});

/// Renders page template `name` with `page`. Errors: 500 when the template fails (a bug).
fn render_page(name: &str, page: &impl Serialize) -> Result<String, ApiError> {
    let env = TEMPLATES.as_ref().map_err(ApiError::internal)?;
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(page)))
        .map_err(ApiError::internal)
}
