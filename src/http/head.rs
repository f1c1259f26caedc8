//! `HEAD` wherever `GET` is served (RFC 9110 §9.3.2).

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;

/// Answers `HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the request runs as `GET`, and
/// its response goes back whole, headers kept and the body's size with them: the HTTP/1
/// encoder, which saw the request's `HEAD`, writes the `Content-Length` of the body a `GET`
/// would send (none for a streamed body) and never the body itself. (Replacing the body by an
/// empty one made every `HEAD` say `Content-Length: 0`, which RFC 9110 forbids.)
pub async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_head = req.method() == actix_web::http::Method::HEAD;
    if is_head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
