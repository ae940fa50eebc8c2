//! The host's gRPC server: `FunctionRpc.EventStream` on a free local port.
//! Each stream a worker opens is handed to whoever waits for it; messages
//! up to the host's limit (`int.MaxValue` bytes) pass both ways.

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};
use worker_proto::StreamingMessage;
use worker_proto::function_rpc_server::{FunctionRpc, FunctionRpcServer};

/// The largest message either side sends: the host's `int.MaxValue`.
pub const MAX_MESSAGE: usize = i32::MAX as usize;

/// One stream a worker opened.
pub struct Stream {
    pub inbound: Streaming<StreamingMessage>,
    pub outbound: mpsc::UnboundedSender<Result<StreamingMessage, Status>>,
}

/// The running server; stops when dropped.
pub struct Listener {
    pub port: u16,
    streams: Mutex<mpsc::UnboundedReceiver<Stream>>,
    _stop: oneshot::Sender<()>,
}

struct Rpc {
    streams: mpsc::UnboundedSender<Stream>,
}

#[tonic::async_trait]
impl FunctionRpc for Rpc {
    type EventStreamStream = UnboundedReceiverStream<Result<StreamingMessage, Status>>;

    async fn event_stream(
        &self,
        request: Request<Streaming<StreamingMessage>>,
    ) -> Result<Response<Self::EventStreamStream>, Status> {
        let (outbound, rx) = mpsc::unbounded_channel();
        self.streams
            .send(Stream {
                inbound: request.into_inner(),
                outbound,
            })
            .map_err(|_| Status::unavailable("the host is stopping"))?;
        Ok(Response::new(UnboundedReceiverStream::new(rx)))
    }
}

impl Listener {
    /// Serves on 127.0.0.1 at a port the system picks.
    pub async fn start() -> Result<Listener, String> {
        let socket = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("cannot open the host's gRPC port: {e}"))?;
        let port = socket
            .local_addr()
            .map_err(|e| format!("cannot read the host's gRPC port: {e}"))?
            .port();
        let (streams_tx, streams) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let service = FunctionRpcServer::new(Rpc {
            streams: streams_tx,
        })
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
        // Nagle's algorithm held small responses back for up to ~40 ms
        // (p99 45 ms against 7 ms with it off, bench/modes); tonic turns it
        // off only on sockets it binds itself.
        let incoming = TcpIncoming::from(socket).with_nodelay(Some(true));
        let serve = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            });
        tokio::spawn(serve);
        Ok(Listener {
            port,
            streams: Mutex::new(streams),
            _stop: stop,
        })
    }

    /// The next stream a worker opens; `None` once the server is gone.
    pub async fn next(&self) -> Option<Stream> {
        self.streams.lock().await.recv().await
    }
}
