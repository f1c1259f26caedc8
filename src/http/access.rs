//! Read rules that more than one route checks.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::auth::MaybeCaller;
use crate::error::ApiError;
use crate::store::conferences::{self, ConferenceRow, Need};
use crate::store::participants::Audience;

/// Loads a conference whose list of participants the caller may read, and for whom: its
/// organisers (and admins) read it as [`Audience::Organisers`], everyone else as
/// [`Audience::Public`] when the conference's `participants_public` is true.
///
/// Serves `/participants` and `/participants.csv`.
///
/// Errors: 404 when the conference is hidden from the caller, or when its list is not public
/// and the caller does not organise it (a list the caller may not see does not exist for
/// them); otherwise those of [`conferences::access`].
pub async fn participants_access(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    caller: MaybeCaller,
) -> Result<(ConferenceRow, Audience), ApiError> {
    let access = conferences::access(conn, conference_id, caller.0, Need::Read).await?;
    if access.can_write {
        Ok((access.conference, Audience::Organisers))
    } else if access.conference.participants_public {
        Ok((access.conference, Audience::Public))
    } else {
        Err(ApiError::NotFound(
            "the list of participants of this conference is not public".to_string(),
        ))
    }
}
