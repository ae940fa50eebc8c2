//! Queue messages: put, get, peek, delete, release and hide for longer,
//! as the queue service's REST API has them.

use super::xml::{tag, xml_escape};
use super::{Account, failure, parse_rfc1123};
use crate::query::percent_encode;
use crate::timers::clock::UtcTime;

/// One message as Get Messages returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub pop_receipt: String,
    pub dequeue_count: u32,
    pub insertion_time: UtcTime,
    pub expiration_time: UtcTime,
    pub next_visible_time: UtcTime,
    /// As stored (base64 when the writer encoded it).
    pub text: String,
}

impl Account {
    /// Creates `queue` unless it exists.
    pub async fn create_queue(&self, queue: &str) -> Result<(), String> {
        let url = format!("{}/{queue}", self.queue_endpoint);
        let (status, body) = self.call("PUT", &url, &[], Vec::new()).await?;
        match status {
            201 | 204 | 409 => Ok(()),
            _ => Err(failure("create queue", queue, status, &body)),
        }
    }

    /// Puts `text` (already encoded) on `queue`, creating it if missing.
    pub async fn put_message(&self, queue: &str, text: &str) -> Result<(), String> {
        let url = format!("{}/{queue}/messages", self.queue_endpoint);
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            xml_escape(text)
        );
        let (mut status, mut reply) = self
            .call("POST", &url, &[], body.clone().into_bytes())
            .await?;
        if status == 404 {
            self.create_queue(queue).await?;
            (status, reply) = self.call("POST", &url, &[], body.into_bytes()).await?;
        }
        if status == 201 {
            Ok(())
        } else {
            Err(failure("put a message on", queue, status, &reply))
        }
    }

    /// Gets up to `count` (1..=32) messages, hiding them for
    /// `visibility_seconds`; `None` when the queue does not exist.
    pub async fn get_messages(
        &self,
        queue: &str,
        count: u32,
        visibility_seconds: u64,
    ) -> Result<Option<Vec<Message>>, String> {
        let url = format!(
            "{}/{queue}/messages?numofmessages={}&visibilitytimeout={}",
            self.queue_endpoint,
            count.clamp(1, 32),
            visibility_seconds.max(1)
        );
        let (status, body) = self.call("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => parse_messages(&String::from_utf8_lossy(&body)).map(Some),
            404 => Ok(None),
            _ => Err(failure("get messages from", queue, status, &body)),
        }
    }

    /// How many messages `queue` holds, hidden ones included (the
    /// service's approximate count); `None` when it does not exist.
    pub async fn message_count(&self, queue: &str) -> Result<Option<u64>, String> {
        let url = format!("{}/{queue}?comp=metadata", self.queue_endpoint);
        let (status, headers, body) = self.call_with_headers("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => headers
                .get("x-ms-approximate-messages-count")
                .and_then(|count| count.to_str().ok())
                .and_then(|count| count.parse().ok())
                .map(Some)
                .ok_or_else(|| format!("queue {queue}'s metadata has no message count")),
            404 => Ok(None),
            _ => Err(failure("read the metadata of", queue, status, &body)),
        }
    }

    /// Reads up to 32 messages without dequeuing them.
    pub async fn peek_messages(&self, queue: &str) -> Result<Vec<Message>, String> {
        let url = format!(
            "{}/{queue}/messages?numofmessages=32&peekonly=true",
            self.queue_endpoint
        );
        let (status, body) = self.call("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => parse_messages(&String::from_utf8_lossy(&body)),
            404 => Ok(Vec::new()),
            _ => Err(failure("peek at", queue, status, &body)),
        }
    }

    pub async fn delete_message(&self, queue: &str, message: &Message) -> Result<(), String> {
        let url = format!(
            "{}/{queue}/messages/{}?popreceipt={}",
            self.queue_endpoint,
            message.id,
            percent_encode(&message.pop_receipt, b"")
        );
        let (status, body) = self.call("DELETE", &url, &[], Vec::new()).await?;
        match status {
            204 | 404 => Ok(()),
            _ => Err(failure("delete a message from", queue, status, &body)),
        }
    }

    /// Makes a dequeued message visible again after `visibility_seconds`.
    pub async fn release_message(
        &self,
        queue: &str,
        message: &Message,
        visibility_seconds: u64,
    ) -> Result<(), String> {
        self.update_visibility(queue, message, visibility_seconds)
            .await
            .map(|_| ())
    }

    /// Update Message: hides a dequeued message for `visibility_seconds`
    /// from now. Storage answers with a new pop receipt that replaces the
    /// old one for every later call on the message; `None` when the message
    /// is gone.
    pub async fn update_visibility(
        &self,
        queue: &str,
        message: &Message,
        visibility_seconds: u64,
    ) -> Result<Option<String>, String> {
        let url = format!(
            "{}/{queue}/messages/{}?popreceipt={}&visibilitytimeout={visibility_seconds}",
            self.queue_endpoint,
            message.id,
            percent_encode(&message.pop_receipt, b"")
        );
        let (status, headers, body) = self.call_with_headers("PUT", &url, &[], Vec::new()).await?;
        match status {
            204 => headers
                .get("x-ms-popreceipt")
                .and_then(|value| value.to_str().ok())
                .map(|receipt| Some(receipt.to_owned()))
                .ok_or_else(|| {
                    format!("cannot update the visibility of a message on {queue}: storage answered 204 without a new pop receipt")
                }),
            404 => Ok(None),
            _ => Err(failure(
                "update the visibility of a message on",
                queue,
                status,
                &body,
            )),
        }
    }
}

/// The messages of a Get or Peek Messages answer.
pub fn parse_messages(xml: &str) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    for chunk in xml.split("<QueueMessage>").skip(1) {
        let field = |name: &str| {
            tag(chunk, name).ok_or_else(|| format!("a queue message without {name}: {chunk}"))
        };
        let time = |name: &str| -> Result<UtcTime, String> {
            match tag(chunk, name) {
                None => Ok(UtcTime::now()),
                Some(text) => {
                    parse_rfc1123(&text).ok_or_else(|| format!("{name} {text:?} is not a date"))
                }
            }
        };
        messages.push(Message {
            id: field("MessageId")?,
            // Peeked messages have no pop receipt.
            pop_receipt: tag(chunk, "PopReceipt").unwrap_or_default(),
            dequeue_count: field("DequeueCount")?
                .parse()
                .map_err(|_| "a DequeueCount that is not a number".to_owned())?,
            insertion_time: time("InsertionTime")?,
            expiration_time: time("ExpirationTime")?,
            next_visible_time: time("TimeNextVisible")?,
            text: field("MessageText")?,
        });
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_xml() {
        let xml = "<?xml version=\"1.0\"?><QueueMessagesList><QueueMessage><MessageId>m1</MessageId><InsertionTime>Thu, 01 Jan 1970 00:00:10 GMT</InsertionTime><ExpirationTime>Thu, 01 Jan 1970 00:01:00 GMT</ExpirationTime><PopReceipt>p/1</PopReceipt><TimeNextVisible>Thu, 01 Jan 1970 00:00:40 GMT</TimeNextVisible><DequeueCount>3</DequeueCount><MessageText>a &amp; &lt;b&gt;</MessageText></QueueMessage></QueueMessagesList>";
        let messages = parse_messages(xml).expect("parses");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].text, "a & <b>");
        assert_eq!(messages[0].dequeue_count, 3);
        assert_eq!(messages[0].insertion_time, UtcTime { unix: 10 });
        assert_eq!(messages[0].pop_receipt, "p/1");
    }
}
