//! How orchestrations fail: a task's failure, which the orchestrator may
//! catch, and the orchestrator's own, which fails the orchestration.

use std::fmt;

use super::proto::TaskFailureDetails;

/// A task of an orchestration that failed: an activity or sub-orchestration
/// that failed (after its retries), with the failure's details.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskError {
    message: String,
    details: Option<TaskFailureDetails>,
}

impl TaskError {
    /// The message, e.g. `abc: Activity task #1 failed: boom`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The failure's own message, as the activity or sub-orchestration
    /// reported it.
    pub fn cause(&self) -> Option<&str> {
        self.details
            .as_ref()
            .map(|details| details.error_message.as_str())
    }

    pub(crate) fn new(message: String, details: Option<TaskFailureDetails>) -> TaskError {
        TaskError { message, details }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An orchestrator's failure: it completes the orchestration as FAILED with
/// these details. `?` builds one from a [`TaskError`], a library
/// [`crate::Error`] or any other error.
#[derive(Debug, Clone, PartialEq)]
pub struct OrchestratorError {
    pub(crate) error_type: String,
    pub(crate) message: String,
    pub(crate) inner: Option<Box<TaskFailureDetails>>,
}

impl OrchestratorError {
    /// A failure with this message.
    pub fn new(message: impl fmt::Display) -> OrchestratorError {
        OrchestratorError {
            error_type: "OrchestratorError".to_owned(),
            message: message.to_string(),
            inner: None,
        }
    }

    /// The message the failure details will carry.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for OrchestratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<TaskError> for OrchestratorError {
    fn from(error: TaskError) -> OrchestratorError {
        OrchestratorError {
            error_type: "TaskFailedError".to_owned(),
            message: error.message,
            inner: error.details.map(Box::new),
        }
    }
}

impl From<crate::Error> for OrchestratorError {
    fn from(error: crate::Error) -> OrchestratorError {
        OrchestratorError::new(error.message())
    }
}

impl<E: std::error::Error> From<E> for OrchestratorError {
    fn from(error: E) -> OrchestratorError {
        OrchestratorError::new(error)
    }
}
