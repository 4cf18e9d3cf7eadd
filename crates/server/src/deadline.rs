//! A read deadline for the whole request body: actix-web's
//! `client_request_timeout` covers the head only, so a client sending one
//! body byte every few seconds held a connection (and a descriptor) for as
//! long as it liked.
//!
//! The middleware wraps the payload in a stream that fails with
//! `TimedOut` once `server.body_timeout_ms` has passed since the head
//! arrived; the JSON extractor then answers 408/4103 (see
//! `fallback::json_error`), and actix-http closes the connection, since the
//! rest of the body was never read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, web};
use futures_core::Stream;
use tokio::time::{Instant, Sleep, sleep_until};

/// The body read deadline, shared with the middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDeadline(pub(crate) Duration);

/// Puts the deadline on every request's body.
pub(crate) async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(deadline) = req.app_data::<web::Data<BodyDeadline>>().map(|d| d.0) {
        let inner = req.take_payload();
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(Deadlined {
                inner,
                sleep: Box::pin(sleep_until(Instant::now() + deadline)),
                expired: false,
            });
        req.set_payload(Payload::from(stream));
    }
    next.call(req).await
}

/// A payload that fails once its deadline has passed.
struct Deadlined {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "body read deadline",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether a payload error is the deadline's.
pub(crate) fn is_deadline(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}
