//! `HEAD` wherever `GET` is served (RFC 9110 §9.3.2).

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;

/// Answers `HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the request runs as `GET` and
/// the body is dropped, headers kept.
pub async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_head = req.method() == actix_web::http::Method::HEAD;
    if is_head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let res = next.call(req).await?;
    if is_head {
        Ok(res.map_body(|_, _| BoxBody::new(())))
    } else {
        Ok(res.map_into_boxed_body())
    }
}
