//! The span of one invocation, child of the trace context the host sends
//! (W3C Trace Context: `traceparent`, `tracestate`): in custom-handler
//! mode the HTTP caller's headers, in native mode the invocation's
//! `RpcTraceContext` (docs/functions.md, "Logs and traces"). Without the
//! `tracing` feature nothing records spans, and a span is a placeholder.

use std::future::Future;

#[cfg(feature = "tracing")]
use tracing::{field::Empty, instrument::Instrument};

use crate::log::{self, InvocationLog};
#[cfg(feature = "tracing")]
use crate::trace_context::{TraceParent, display_hex, valid_tracestate};

#[cfg(feature = "tracing")]
pub(crate) use tracing::Span;

/// A span nothing records: a build without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct Span;

/// Whether anything records `span`, so that its parent is worth reading.
pub(crate) fn is_recorded(span: &Span) -> bool {
    #[cfg(feature = "tracing")]
    return !span.is_disabled();
    #[cfg(not(feature = "tracing"))]
    {
        let _ = span;
        false
    }
}

/// The span of one invocation of `function`, its parent set apart (see
/// [`follow`]). Disabled when no subscriber records spans (a build
/// without an exporter), and then it costs nothing.
pub(crate) fn invocation_span(function: &str, invocation_id: Option<&str>) -> Span {
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (function, invocation_id);
        Span
    }
    #[cfg(feature = "tracing")]
    crate::events::install();
    #[cfg(feature = "tracing")]
    tracing::info_span!(
        target: "azure_functions_rocket",
        "invocation",
        otel.name = function,
        otel.kind = "server",
        faas.name = function,
        faas.invocation_id = invocation_id,
        trace_id = Empty,
        parent_id = Empty,
    )
}

/// Makes the host's trace context the parent of `span`: `traceparent`
/// (ignored unless valid), `tracestate` (dropped unless valid) and the
/// host's attributes, which the exporter adds to the span.
pub(crate) fn follow<'a>(
    span: &Span,
    traceparent: &str,
    tracestate: &str,
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    if !is_recorded(span) {
        return;
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (traceparent, tracestate, attributes.into_iter());
    #[cfg(feature = "tracing")]
    {
        let parent = TraceParent::parse(traceparent);
        if let Some(parent) = &parent {
            span.record("trace_id", display_hex(&parent.trace_id));
            span.record("parent_id", display_hex(&parent.parent_id));
        }
        let tracestate = if valid_tracestate(tracestate) {
            tracestate
        } else {
            ""
        };
        #[cfg(feature = "otel")]
        crate::otel::follow(span, parent.as_ref(), tracestate, attributes);
        #[cfg(not(feature = "otel"))]
        let _ = (tracestate, attributes.into_iter());
    }
}

/// The span of one invocation that arrived with the host's trace context
/// (native mode's `RpcTraceContext { trace_parent, trace_state,
/// attributes }`): [`invocation_span`] and [`follow`] at once.
// For the native worker, which has the context apart from any headers.
#[allow(dead_code)]
pub(crate) fn traced_invocation_span<'a>(
    function: &str,
    invocation_id: &str,
    traceparent: &str,
    tracestate: &str,
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Span {
    let span = invocation_span(function, Some(invocation_id));
    follow(&span, traceparent, tracestate, attributes);
    span
}

/// Runs `invocation` inside `span`, with a log of its own
/// ([`log::scope`]); the span ends with it, and with an exporter the
/// invocation's spans are sent before this returns, as the instance may
/// be frozen once the host has its answer.
pub(crate) async fn observed<T>(
    span: Span,
    invocation: impl Future<Output = T>,
) -> (T, InvocationLog) {
    #[cfg(not(feature = "tracing"))]
    let observed = {
        let Span = span;
        log::scope(invocation).await
    };
    #[cfg(feature = "tracing")]
    let exported = !span.is_disabled();
    #[cfg(feature = "tracing")]
    let observed = log::scope(invocation.instrument(span)).await;
    #[cfg(feature = "otel")]
    if exported {
        crate::otel::flush().await;
    }
    #[cfg(all(feature = "tracing", not(feature = "otel")))]
    let _ = exported;
    observed
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::collections::HashMap;
    use std::fmt;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT_ID: &str = "00f067aa0ba902b7";

    /// Every span's fields, as text, by span.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<HashMap<String, String>>>>);

    struct Values<'a>(&'a mut HashMap<String, String>);

    impl Visit for Values<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl Subscriber for Spans {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut spans = self.0.lock().unwrap();
            let mut values = HashMap::new();
            span.record(&mut Values(&mut values));
            spans.push(values);
            Id::from_u64(spans.len() as u64)
        }

        fn record(&self, span: &Id, values: &Record<'_>) {
            let mut spans = self.0.lock().unwrap();
            let at = span.into_u64() as usize - 1;
            values.record(&mut Values(&mut spans[at]));
        }

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, _: &Event<'_>) {}

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }

    /// The one span an HTTP invocation with `headers` opens, by field.
    fn invocation_span_of(headers: &str) -> HashMap<String, String> {
        use crate::harness::{DirectCall, invoke};
        use crate::{Error, Function, HttpRequest, HttpResponse};

        async fn echo(req: HttpRequest) -> Result<HttpResponse, Error> {
            Ok(HttpResponse::new(200, req.text()?))
        }
        let function = Function::http("Echo", echo).binding("req");
        let body = format!(
            r#"{{"Data": {{"req": {{"Body": "hi"}}}}, "Metadata": {{"Headers": {headers}}}}}"#
        );
        let spans = Spans::default();
        let answer = tracing::subscriber::with_default(spans.clone(), || {
            rocket::tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(invoke(
                    &function,
                    body.as_bytes(),
                    |body| DirectCall {
                        body,
                        ..DirectCall::default()
                    },
                    Some("id-7"),
                ))
        });
        assert_eq!(answer.status, 200);
        let envelope: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(envelope["ReturnValue"]["body"], "hi");
        let mut spans = spans.0.lock().unwrap().clone();
        assert_eq!(spans.len(), 1, "{spans:?}");
        spans.remove(0)
    }

    #[test]
    fn the_callers_traceparent_becomes_the_invocation_spans_parent() {
        let span = invocation_span_of(&format!(
            r#"{{"Content-Type": "text/plain", "TraceParent": "00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "congo=t61rcWkgMzE"}}"#
        ));
        assert_eq!(span["trace_id"], TRACE_ID);
        assert_eq!(span["parent_id"], PARENT_ID);
        assert_eq!(span["faas.invocation_id"], "id-7");
        assert_eq!(span["otel.name"], "Echo");
    }

    #[test]
    fn a_malformed_traceparent_is_ignored_and_the_invocation_runs() {
        for headers in [
            format!(r#"{{"traceparent": "00-{TRACE_ID}-{PARENT_ID}-zz"}}"#),
            r#"{"traceparent": 7}"#.to_owned(),
            r#"{"traceparent": ["a", "b"]}"#.to_owned(),
            r#""not an object""#.to_owned(),
        ] {
            let span = invocation_span_of(&headers);
            assert!(!span.contains_key("trace_id"), "{headers}: {span:?}");
            assert!(!span.contains_key("parent_id"), "{headers}: {span:?}");
            assert_eq!(span["faas.invocation_id"], "id-7");
        }
    }

    #[test]
    fn a_forwarded_requests_traceparent_becomes_the_parent() {
        use crate::{Error, Function, HttpRequest, HttpResponse};

        async fn echo(req: HttpRequest) -> Result<HttpResponse, Error> {
            Ok(HttpResponse::new(200, req.text()?))
        }
        let function = Function::http("Echo", echo).binding("req");
        let request = HttpRequest {
            headers: vec![(
                "Traceparent".into(),
                format!("00-{TRACE_ID}-{PARENT_ID}-01"),
            )],
            body: b"hi".to_vec(),
            ..HttpRequest::default()
        };
        let spans = Spans::default();
        let response = tracing::subscriber::with_default(spans.clone(), || {
            rocket::tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(crate::adapter::respond(&function, request, Some("id-8")))
        });
        assert_eq!(response.status, 200);
        let spans = spans.0.lock().unwrap();
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0]["trace_id"], TRACE_ID);
        assert_eq!(spans[0]["parent_id"], PARENT_ID);
        assert_eq!(spans[0]["faas.invocation_id"], "id-8");
    }

    #[test]
    fn the_native_context_becomes_the_parent_too() {
        let spans = Spans::default();
        tracing::subscriber::with_default(spans.clone(), || {
            traced_invocation_span(
                "F",
                "id-9",
                &format!("00-{TRACE_ID}-{PARENT_ID}-01"),
                "k=v",
                [("az.schema_url", "x")],
            );
        });
        let spans = spans.0.lock().unwrap();
        assert_eq!(spans[0]["trace_id"], TRACE_ID);
        assert_eq!(spans[0]["parent_id"], PARENT_ID);
        assert_eq!(spans[0]["faas.invocation_id"], "id-9");
    }
}
