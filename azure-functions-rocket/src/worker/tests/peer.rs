//! A scripted host for the worker's unit tests: the generated
//! `FunctionRpc` server, in process, on a free port, that hands the
//! worker's messages to the test and sends the test's to the worker. The
//! real host stand-in is the CLI's.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use rocket::futures::{Stream, stream};
use rocket::tokio::{self, sync::mpsc, sync::oneshot};
use tonic::{Request, Response, Status, Streaming};
use worker_proto::StreamingMessage;
use worker_proto::function_rpc_server::{FunctionRpc, FunctionRpcServer};
use worker_proto::streaming_message::Content;

type Outgoing = Pin<Box<dyn Stream<Item = Result<StreamingMessage, Status>> + Send>>;

struct Host {
    /// The one stream's ends, taken by the worker's call.
    ends: Mutex<
        Option<(
            mpsc::Receiver<StreamingMessage>,
            mpsc::Sender<StreamingMessage>,
        )>,
    >,
}

#[tonic::async_trait]
impl FunctionRpc for Host {
    type EventStreamStream = Outgoing;

    async fn event_stream(
        &self,
        request: Request<Streaming<StreamingMessage>>,
    ) -> Result<Response<Outgoing>, Status> {
        let ends = self.ends.lock().map(|mut ends| ends.take());
        let Ok(Some((to_worker, from_worker))) = ends else {
            return Err(Status::resource_exhausted("one stream per test"));
        };
        let mut incoming = request.into_inner();
        let (ended, worker_done) = oneshot::channel::<()>();
        tokio::spawn(async move {
            while let Ok(Some(message)) = incoming.message().await {
                if from_worker.send(message).await.is_err() {
                    break;
                }
            }
            let _ = ended.send(());
        });
        // The host ends its side once the worker has ended its own, as
        // the host's gRPC service does.
        let outgoing = stream::unfold(
            (to_worker, worker_done),
            |(mut to_worker, mut worker_done)| async move {
                tokio::select! {
                    message = to_worker.recv() => {
                        message.map(|message| (Ok(message), (to_worker, worker_done)))
                    }
                    _ = &mut worker_done => None,
                }
            },
        );
        Ok(Response::new(Box::pin(outgoing)))
    }
}

/// The host's end of one worker's stream.
pub(super) struct Peer {
    pub uri: String,
    to_worker: Option<mpsc::Sender<StreamingMessage>>,
    from_worker: mpsc::Receiver<StreamingMessage>,
    _shutdown: oneshot::Sender<()>,
}

impl Peer {
    /// Serves on a free local port until the peer is dropped.
    pub(super) async fn start() -> Peer {
        let (to_worker, worker_inbox) = mpsc::channel(1024);
        let (worker_outbox, from_worker) = mpsc::channel(1024);
        let host = Host {
            ends: Mutex::new(Some((worker_inbox, worker_outbox))),
        };
        let incoming = tonic::transport::server::TcpIncoming::bind(([127, 0, 0, 1], 0).into())
            .expect("a free port");
        let address = incoming.local_addr().expect("its address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(FunctionRpcServer::new(host))
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stopped.await;
                }),
        );
        Peer {
            uri: format!("http://{address}/"),
            to_worker: Some(to_worker),
            from_worker,
            _shutdown: shutdown,
        }
    }

    pub(super) async fn send(&self, content: Content) {
        self.send_with_id("host-request", content).await;
    }

    pub(super) async fn send_with_id(&self, request_id: &str, content: Content) {
        let message = StreamingMessage {
            request_id: request_id.to_owned(),
            content: Some(content),
        };
        self.to_worker
            .as_ref()
            .expect("the stream is open")
            .send(message)
            .await
            .expect("the worker is connected");
    }

    /// The worker's next message, within ten seconds.
    pub(super) async fn next(&mut self) -> StreamingMessage {
        tokio::time::timeout(Duration::from_secs(10), self.from_worker.recv())
            .await
            .expect("the worker answers within 10 s")
            .expect("the worker's stream is open")
    }

    /// Ends the host's side of the stream.
    pub(super) fn close(&mut self) {
        self.to_worker = None;
    }
}
