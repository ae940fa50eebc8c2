//! The generated messages keep the proto's field numbers: bytes written by
//! hand from FunctionRpc.proto decode to the message they name.

use prost::Message;
use worker_proto::{StartStream, StreamingMessage, streaming_message::Content};

#[test]
fn start_stream_is_field_20_and_request_id_field_1() {
    // request_id (1) = "r"; start_stream (20) = { worker_id (2) = "w" }.
    let bytes = [0x0a, 0x01, b'r', 0xa2, 0x01, 0x03, 0x12, 0x01, b'w'];
    let message = StreamingMessage::decode(&bytes[..]).expect("decodes");
    assert_eq!(message.request_id, "r");
    assert_eq!(
        message.content,
        Some(Content::StartStream(StartStream {
            worker_id: "w".to_owned()
        }))
    );
    assert_eq!(message.encode_to_vec(), bytes);
}
