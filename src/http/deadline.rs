//! The deadline of a request body: 408 once it has not arrived in time.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::error::PayloadError;
use actix_web::{web, ResponseError};
use futures_util::StreamExt;

use crate::error::ApiError;
use crate::state::AppState;

/// A request body stream that fails once `sleep` ends before the body is complete, and
/// records that it did in `timed_out`.
struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    timed_out: Rc<Cell<bool>>,
    done: bool,
}

impl futures_util::Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    self.timed_out.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body timed out",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Bounds the time to receive a request body to [`AppState::body_timeout`], counted from
/// the end of its headers (actix bounds the headers themselves): a body still incomplete
/// then fails the read, and the answer, whatever the reader made of it, is 408
/// problem+json with `Connection: close` ([`ApiError::RequestTimeout`]). Must sit outside everything that reads bodies
/// (the `Idempotency-Key` layer included).
pub async fn body_deadline(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(limit) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.body_timeout)
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let timed_out = Rc::new(Cell::new(false));
    let stream = Deadline {
        inner: actix_web::HttpMessage::take_payload(&mut req),
        sleep: Box::pin(tokio::time::sleep(limit)),
        timed_out: timed_out.clone(),
        done: false,
    };
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(stream),
    });
    let res = next.call(req).await?;
    if !timed_out.get() {
        return Ok(res.map_into_boxed_body());
    }
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(
        req,
        ApiError::RequestTimeout(limit).error_response(),
    ))
}
