-- Notifications (API.md, "Notifications: e-mail and webhooks"): one outbox for every message
-- that leaves Plenary, e-mails and webhook deliveries alike (src/store/outbox.rs), written in
-- the transaction of the write that causes it and delivered by the sender every instance runs
-- (src/notify/). Also the webhooks themselves, password-reset codes, and what tells a
-- verified account from one made from a code a secretariat handed out itself.

-- A UUID v7 (RFC 9562 §5.7) made by the database, for rows a statement makes from a join
-- (one webhook delivery per matching webhook): 48 bits of Unix milliseconds, then random bits,
-- with the version and variant set. PostgreSQL 15 has no uuidv7() of its own.
CREATE FUNCTION plenary_uuid_v7() RETURNS uuid AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$ LANGUAGE sql VOLATILE;

CREATE TABLE webhooks (
    id UUID PRIMARY KEY,
    conference_id UUID NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- Event types, or '{*}' for all of them.
    events TEXT[] NOT NULL,
    -- `whsec_` and the base64 of 32 random bytes: kept, since every delivery is signed with it.
    secret TEXT NOT NULL,
    created_by UUID REFERENCES organisers (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_conference ON webhooks (conference_id, id);

CREATE TABLE outbox (
    -- UUID v7: the e-mail's Message-ID and the delivery's `webhook-id`, the same on every
    -- attempt.
    id UUID PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- The e-mail's kind (`invitation`, ...) or the webhook event's type (`member.created`, ...).
    kind TEXT NOT NULL,
    -- The conference whose organisers see the message (null for a password reset); kept when
    -- the conference is deleted, so a committed message is still delivered.
    conference_id UUID REFERENCES conferences (id) ON DELETE SET NULL,
    webhook_id UUID REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The e-mail address, or the webhook's URL.
    recipient TEXT NOT NULL,
    recipient_name TEXT,
    subject TEXT,
    -- An e-mail's template context, or a webhook delivery's body. Codes (`code`) are removed
    -- from it once the message is delivered.
    payload JSONB NOT NULL,
    -- Order of the deliveries of one webhook: the conference's revision bumped by the write
    -- (revisions rise in commit order), then `seq` within one write.
    revision BIGINT,
    seq BIGSERIAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_status_code INTEGER,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- While a sender holds the message (claimed, being sent): no other sender takes it.
    leased_until TIMESTAMPTZ,
    -- Messages sent at most once (a reminder per focal point and conference).
    dedupe_key TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at TIMESTAMPTZ
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_conference ON outbox (conference_id, id) WHERE channel = 'email';
CREATE INDEX outbox_webhook ON outbox (webhook_id, id);
CREATE INDEX outbox_webhook_pending ON outbox (webhook_id, revision, seq) WHERE status = 'pending';

CREATE TABLE password_resets (
    id UUID PRIMARY KEY,
    organiser_id UUID NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    -- SHA-256 of the code, hex (like invitation codes).
    code_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX password_resets_organiser ON password_resets (organiser_id);

-- Tokens issued before this instant are refused (a password reset or change ends them).
ALTER TABLE organisers ADD COLUMN tokens_valid_after TIMESTAMPTZ;
-- False for an account made from a code handed out in an API response
-- (PLENARY_INVITATION_CODES_IN_RESPONSE): it has not proven its address, and receives no
-- organiser grants until a password reset by e-mail proves it.
ALTER TABLE organisers ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT true;
