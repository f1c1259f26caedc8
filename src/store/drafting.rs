//! What a drafted attendance reads (API.md, "Attendance from a text"): the register of
//! organisations and the conference's delegations. Reads only: a draft stores nothing.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{delegations, organisations};
use crate::domain::drafting::{RegisteredOrganisation, Settings};
use crate::domain::vocab::DelegationRole;

/// The register (every organisation: id, name, acronym) and the conference's settings (its
/// host country and its delegations' roles).
pub async fn context(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    host_country: Option<String>,
) -> QueryResult<(Vec<RegisteredOrganisation>, Settings)> {
    let register: Vec<(Uuid, String, Option<String>)> = organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::acronym,
        ))
        .order(organisations::id.asc())
        .load(conn)
        .await?;
    let rows: Vec<(Option<String>, Option<Uuid>, DelegationRole)> = delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .select((
            delegations::country,
            delegations::organisation_id,
            delegations::role,
        ))
        .load(conn)
        .await?;
    let mut settings = Settings {
        host_country,
        countries: HashMap::new(),
        organisations: HashMap::new(),
    };
    for (country, organisation, role) in rows {
        if let Some(c) = country {
            settings.countries.insert(c, role);
        }
        if let Some(o) = organisation {
            settings.organisations.insert(o, role);
        }
    }
    let register = register
        .into_iter()
        .map(|(id, name, acronym)| RegisteredOrganisation { id, name, acronym })
        .collect();
    Ok((register, settings))
}
