-- Editions of the official List of Participants (API.md "The official List of Participants"):
-- each is numbered 1, 2, 3... per conference, provisional or final, and holds a snapshot of
-- the list as the public saw it when it was made (no emails, no genders) with its statistics
-- (counts only). A snapshot is never rewritten: later changes to delegations or members do
-- not reach it. At most one final edition per conference, and nothing after it (the write
-- locks the conference row; `participant_editions_one_final` is the database's backstop).
CREATE TABLE participant_editions (
    id            uuid PRIMARY KEY,
    conference_id uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    number        integer NOT NULL CHECK (number > 0),
    kind          text NOT NULL CHECK (kind IN ('provisional', 'final')),
    as_of         timestamptz NOT NULL,
    snapshot      jsonb NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    statistics    jsonb NOT NULL CHECK (jsonb_typeof(statistics) = 'object'),
    created_by    uuid REFERENCES organisers (id) ON DELETE SET NULL,
    CONSTRAINT participant_editions_conference_number_key UNIQUE (conference_id, number)
);

CREATE UNIQUE INDEX participant_editions_one_final
    ON participant_editions (conference_id) WHERE kind = 'final';
