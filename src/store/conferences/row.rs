//! The conference row, its API representation, and how validated changes apply to it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::conferences;
use crate::domain::conference::{Conference, ConferenceChanges, Quotas, Venue};
use crate::domain::vocab::{ConferenceStatus, ProtocolHost};
use crate::store::audit::Audited;
use crate::store::audit::ResourceKind;
use crate::store::new_id;

/// A conference row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = conferences, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ConferenceRow {
    /// UUID v7.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Theme.
    pub theme: Option<String>,
    /// Status.
    pub status: ConferenceStatus,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// IANA zone.
    pub time_zone: String,
    /// Venue name.
    pub venue_name: Option<String>,
    /// Venue city.
    pub venue_city: String,
    /// Venue region.
    pub venue_region: Option<String>,
    /// Venue alpha-2.
    pub venue_country: String,
    /// Host alpha-2.
    pub host_country: Option<String>,
    /// Host organisation.
    pub host_organisation_id: Option<Uuid>,
    /// Source URL.
    pub source_url: Option<String>,
    /// Participants list public.
    pub participants_public: bool,
    /// Creator (null for imported conferences).
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// The host's place in protocol order.
    pub protocol_host: ProtocolHost,
    /// Focal points' deadline, if any.
    pub nominations_close_at: Option<DateTime<Utc>>,
    /// Member quotas, if any.
    pub quotas: Option<Quotas>,
}

impl From<ConferenceRow> for Conference {
    fn from(r: ConferenceRow) -> Self {
        Conference {
            id: r.id,
            title: r.title,
            theme: r.theme,
            status: r.status,
            start_date: r.start_date,
            end_date: r.end_date,
            time_zone: r.time_zone,
            venue: Venue {
                name: r.venue_name,
                city: r.venue_city,
                region: r.venue_region,
                country: r.venue_country,
            },
            host_country: r.host_country,
            host_organisation_id: r.host_organisation_id,
            source_url: r.source_url,
            participants_public: r.participants_public,
            protocol_host: r.protocol_host,
            nominations_close_at: r.nominations_close_at,
            quotas: r.quotas,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl ConferenceRow {
    /// A new row from a validated `POST` (every required field is present).
    pub fn new(c: ConferenceChanges, created_by: Option<Uuid>) -> Self {
        let now = Utc::now();
        let venue = c.venue.unwrap_or(Venue {
            name: None,
            city: String::new(),
            region: None,
            country: String::new(),
        });
        let mut row = Self {
            id: new_id(),
            title: String::new(),
            theme: None,
            status: ConferenceStatus::Draft,
            start_date: c.start_date.unwrap_or_default(),
            end_date: c.end_date.unwrap_or_default(),
            time_zone: "UTC".to_string(),
            venue_name: venue.name.clone(),
            venue_city: venue.city.clone(),
            venue_region: venue.region.clone(),
            venue_country: venue.country.clone(),
            host_country: None,
            host_organisation_id: None,
            source_url: None,
            participants_public: false,
            created_by,
            created_at: now,
            updated_at: now,
            protocol_host: ProtocolHost::First,
            nominations_close_at: None,
            quotas: None,
        };
        row.apply(ConferenceChanges { venue: None, ..c });
        row
    }

    /// Applies validated changes.
    pub fn apply(&mut self, c: ConferenceChanges) {
        if let Some(v) = c.title {
            self.title = v;
        }
        if let Some(v) = c.theme {
            self.theme = v;
        }
        if let Some(v) = c.status {
            self.status = v;
        }
        if let Some(v) = c.start_date {
            self.start_date = v;
        }
        if let Some(v) = c.end_date {
            self.end_date = v;
        }
        if let Some(v) = c.time_zone {
            self.time_zone = v.name().to_string();
        }
        if let Some(v) = c.venue {
            self.venue_name = v.name;
            self.venue_city = v.city;
            self.venue_region = v.region;
            self.venue_country = v.country;
        }
        if let Some(v) = c.host_country {
            self.host_country = v;
        }
        if let Some(v) = c.host_organisation_id {
            self.host_organisation_id = v;
        }
        if let Some(v) = c.source_url {
            self.source_url = v;
        }
        if let Some(v) = c.participants_public {
            self.participants_public = v;
        }
        if let Some(v) = c.protocol_host {
            self.protocol_host = v;
        }
        if let Some(v) = c.nominations_close_at {
            self.nominations_close_at = v;
        }
        if let Some(v) = c.quotas {
            self.quotas = v;
        }
        self.updated_at = Utc::now();
    }

    /// The conference's IANA zone (validated on the way in; UTC if the stored name is unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

impl Audited for ConferenceRow {
    const KIND: ResourceKind = ResourceKind::Conference;
    type Repr = Conference;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Conference {
        Conference::from(self.clone())
    }
    fn conference_id(&self) -> Option<Uuid> {
        Some(self.id)
    }
}
