//! The accreditation tests' common ground: a conference with a delegation and its focal point.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{Organiser, TestApp};

/// A published conference with a delegation of Cambodia, its owner and its focal point.
pub struct NominationSetup {
    pub owner: Organiser,
    pub focal: Organiser,
    pub conference: String,
    pub delegation: Uuid,
}

impl NominationSetup {
    /// Made for test `tag` (its accounts' e-mails name it).
    pub async fn new(app: &TestApp, tag: &str) -> Self {
        let f = app
            .fixture()
            .owner_email(&format!("owner-{tag}@example.org"))
            .delegation("KH")
            .focal_point(&format!("focal-{tag}@example.org"))
            .build()
            .await;
        NominationSetup {
            delegation: f.delegation_id(0),
            focal: f.focal_points[0].clone(),
            owner: f.owner,
            conference: f.conference,
        }
    }

    /// The delegation's members path.
    pub fn members(&self) -> String {
        format!(
            "/api/v1/conferences/{}/delegations/{}/members",
            self.conference, self.delegation
        )
    }

    /// The conference's path.
    pub fn conference_path(&self) -> String {
        format!("/api/v1/conferences/{}", self.conference)
    }

    /// Sets the conference's `quotas` (as its owner).
    pub async fn quotas(&self, app: &TestApp, quotas: Value) {
        let (s, body) = app
            .patch(
                &self.conference_path(),
                Some(&self.owner.token),
                &json!({ "quotas": quotas }),
            )
            .await;
        assert_eq!(s, 200, "{body}");
    }
}

/// The rows of `delegation_members` for `delegation`, counted in the database itself.
pub async fn stored_members(app: &TestApp, delegation: Uuid) -> i64 {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use plenary::db::schema::delegation_members;
    let mut conn = app.conn().await;
    delegation_members::table
        .filter(delegation_members::delegation_id.eq(delegation))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count members")
}
