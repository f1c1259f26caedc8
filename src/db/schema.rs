//! Diesel table definitions, matching `migrations/` (kept by hand; a test compares them with
//! the migrated database through the queries that use every column).

diesel::table! {
    organisers (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        disabled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// May create conferences and organisations (migration 2026-12-02-000001_accreditation).
        is_organiser -> Bool,
        /// Tokens issued before this are refused (migration 2026-12-07-000001_notifications).
        tokens_valid_after -> Nullable<Timestamptz>,
        /// False for an account made from a code handed out in an API response.
        email_verified -> Bool,
    }
}

diesel::table! {
    countries (code) {
        code -> Text,
        alpha3 -> Text,
        numeric -> Text,
        name -> Text,
        official_name -> Text,
        region -> Nullable<Text>,
        subregion -> Nullable<Text>,
        /// UN M49 "Country or Area" name (migration 2026-12-02-000003_un_names).
        un_name -> Text,
    }
}

diesel::table! {
    country_aliases (alias) {
        alias -> Text,
        code -> Text,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        name -> Text,
        acronym -> Nullable<Text>,
        kind -> Text,
        country -> Nullable<Text>,
        website -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        name_skeleton -> Nullable<Text>,
    }
}

diesel::table! {
    conferences (id) {
        id -> Uuid,
        title -> Text,
        theme -> Nullable<Text>,
        status -> Text,
        start_date -> Date,
        end_date -> Date,
        time_zone -> Text,
        venue_name -> Nullable<Text>,
        venue_city -> Text,
        venue_region -> Nullable<Text>,
        venue_country -> Text,
        host_country -> Nullable<Text>,
        host_organisation_id -> Nullable<Uuid>,
        source_url -> Nullable<Text>,
        participants_public -> Bool,
        // `search tsvector` (generated, full-text search) is used through SQL fragments
        // in `store::search`, so it is not declared here.
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        protocol_host -> Text,
        nominations_close_at -> Nullable<Timestamptz>,
        quotas -> Nullable<Jsonb>,
    }
}

diesel::table! {
    conference_organisers (conference_id, organiser_id) {
        conference_id -> Uuid,
        organiser_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    delegations (id) {
        id -> Uuid,
        conference_id -> Uuid,
        country -> Nullable<Text>,
        organisation_id -> Nullable<Uuid>,
        authority -> Nullable<Text>,
        role -> Text,
        status -> Text,
        head_name -> Nullable<Text>,
        head_title -> Nullable<Text>,
        size -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// The conference's start_date, kept by triggers (migration
        /// 2026-11-30-000001_delegation_history_order); never written by Plenary.
        conference_start_date -> Date,
        /// Mirror of `delegation_credentials.status`, `none` without an upload (migration
        /// 2026-12-02-000002_credentials).
        credentials -> Text,
    }
}

diesel::table! {
    delegation_members (id) {
        id -> Uuid,
        delegation_id -> Uuid,
        full_name -> Text,
        title -> Nullable<Text>,
        position -> Nullable<Text>,
        is_head -> Bool,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        family_name -> Nullable<Text>,
        native_name -> Nullable<Text>,
        honorific -> Nullable<Text>,
        category -> Text,
        gender -> Nullable<Text>,
        nomination_status -> Text,
        nomination_note -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        conference_id -> Uuid,
        title -> Text,
        kind -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        room -> Nullable<Text>,
        chair -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    session_delegations (session_id, delegation_id) {
        session_id -> Uuid,
        delegation_id -> Uuid,
        conference_id -> Uuid,
    }
}

diesel::table! {
    conference_imports (conference_id) {
        conference_id -> Uuid,
        digest -> Text,
        source -> Text,
        imported_at -> Timestamptz,
    }
}

diesel::table! {
    /// An explicit protocol order (migration `2025-11-30-000005_attendance_publishing`).
    delegation_protocol_ranks (delegation_id) {
        delegation_id -> Uuid,
        conference_id -> Uuid,
        rank -> Int4,
    }
}

diesel::table! {
    /// Delegations present at a session (migration `2025-11-30-000005_attendance_publishing`).
    session_presence (session_id, delegation_id) {
        session_id -> Uuid,
        delegation_id -> Uuid,
        conference_id -> Uuid,
        recorded_by -> Nullable<Uuid>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    /// Focal points and their invitations (migration 2026-12-02-000001_accreditation).
    focal_points (id) {
        id -> Uuid,
        conference_id -> Uuid,
        delegation_id -> Uuid,
        email -> Text,
        name -> Text,
        code_hash -> Text,
        expires_at -> Timestamptz,
        organiser_id -> Nullable<Uuid>,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}
diesel::table! {
    /// Letters of credentials and their review (migration 2026-12-02-000002_credentials).
    delegation_credentials (delegation_id) {
        delegation_id -> Uuid,
        conference_id -> Uuid,
        status -> Text,
        sha256 -> Text,
        bytes -> Int4,
        submitted_at -> Timestamptz,
        submitted_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        reviewed_by -> Nullable<Uuid>,
        note -> Nullable<Text>,
    }
}
diesel::table! {
    /// The PDF of each letter of credentials, read only by its download.
    credential_documents (delegation_id) {
        delegation_id -> Uuid,
        document -> Bytea,
    }
}
diesel::table! {
    /// Editions of the List of Participants, frozen snapshots (migration
    /// 2026-12-02-000004_participant_editions).
    participant_editions (id) {
        id -> Uuid,
        conference_id -> Uuid,
        number -> Int4,
        kind -> Text,
        as_of -> Timestamptz,
        snapshot -> Jsonb,
        statistics -> Jsonb,
        created_by -> Nullable<Uuid>,
    }
}
diesel::joinable!(country_aliases -> countries (code));
diesel::joinable!(conference_organisers -> conferences (conference_id));
diesel::joinable!(conference_organisers -> organisers (organiser_id));
diesel::joinable!(delegations -> conferences (conference_id));
diesel::joinable!(delegation_members -> delegations (delegation_id));
diesel::joinable!(sessions -> conferences (conference_id));
diesel::joinable!(session_delegations -> sessions (session_id));
diesel::joinable!(participant_editions -> conferences (conference_id));

diesel::table! {
    login_failures (key) {
        key -> Text,
        window_start -> Timestamptz,
        failures -> Int4,
    }
}

diesel::table! {
    idempotency_keys (organiser_id, key) {
        organiser_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Int4>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
        created_at -> Timestamptz,
        /// The access checks a replay passes again (migration
        /// 2026-12-07-000002_idempotency_replay_checks).
        replay_checks -> Nullable<Jsonb>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        conference_id -> Nullable<Uuid>,
        organiser_id -> Nullable<Uuid>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Uuid,
        changes -> Jsonb,
        created_at -> Timestamptz,
        /// `organiser`, `focal_point`, `check_in` or `system` (migration
        /// 2026-12-07-100001_audit_actor_kind).
        actor_kind -> Text,
    }
}

diesel::table! {
    /// Webhooks of a conference (migration 2026-12-07-000001_notifications).
    webhooks (id) {
        id -> Uuid,
        conference_id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        secret -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}
diesel::table! {
    /// Every message that leaves Plenary, e-mails and webhook deliveries (migration
    /// 2026-12-07-000001_notifications).
    outbox (id) {
        id -> Uuid,
        channel -> Text,
        kind -> Text,
        conference_id -> Nullable<Uuid>,
        webhook_id -> Nullable<Uuid>,
        recipient -> Text,
        recipient_name -> Nullable<Text>,
        subject -> Nullable<Text>,
        payload -> Jsonb,
        revision -> Nullable<Int8>,
        seq -> Int8,
        status -> Text,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        last_status_code -> Nullable<Int4>,
        next_attempt_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}
diesel::table! {
    /// One-time password-reset codes, hashed (migration 2026-12-07-000001_notifications).
    password_resets (id) {
        id -> Uuid,
        organiser_id -> Uuid,
        code_hash -> Text,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}
diesel::table! {
    /// Signed-in browsers of the focal points' portal, the cookie's code hashed (migration
    /// 2026-12-07-200001_portal_sessions).
    portal_sessions (id) {
        id -> Uuid,
        code_hash -> Text,
        organiser_id -> Uuid,
        csrf -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organisers,
    countries,
    country_aliases,
    organisations,
    conferences,
    conference_organisers,
    delegations,
    delegation_members,
    sessions,
    session_delegations,
    conference_imports,
    login_failures,
    idempotency_keys,
    audit_log,
    delegation_protocol_ranks,
    session_presence,
    focal_points,
    delegation_credentials,
    credential_documents,
    participant_editions,
    webhooks,
    outbox,
    password_resets,
    portal_sessions,
);
