//! What an entity function sees of one operation: the entity, the
//! operation, its input and the entity's state.

use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use crate::error::Error;

pub use super::proto::EntityId;

/// What an entity function sees of one operation: the entity, the
/// operation's name and input, and the entity's state of type `S`.
///
/// The function takes it by value, as every other kind of function takes
/// its input, so that it can be an `async fn`; the state it leaves is read
/// once the operation has ended.
pub struct EntityContext<S> {
    id: EntityId,
    operation: String,
    input: Option<String>,
    state: Arc<Mutex<Option<S>>>,
}

impl<S> EntityContext<S> {
    /// A context for one operation on `state`; the handle reads the state
    /// it leaves.
    pub(crate) fn new(
        id: EntityId,
        operation: String,
        input: Option<String>,
        state: Option<S>,
    ) -> (EntityContext<S>, Arc<Mutex<Option<S>>>) {
        let state = Arc::new(Mutex::new(state));
        let context = EntityContext {
            id,
            operation,
            input,
            state: state.clone(),
        };
        (context, state)
    }

    /// The entity.
    pub fn id(&self) -> &EntityId {
        &self.id
    }

    /// The entity's key.
    pub fn key(&self) -> &str {
        self.id.key()
    }

    /// The operation's name, as the caller spelled it.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The operation's input as `T` (JSON `null` when it has none, so
    /// `Option<_>` reads an absent input as `None`).
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let text = self.input.as_deref().unwrap_or("null");
        serde_json::from_str(text).map_err(|error| {
            Error::bad_request(format_args!(
                "the input {} of operation {} is not of the expected type: {error}",
                crate::text::excerpt(text, 100),
                self.operation
            ))
        })
    }

    /// A copy of the state, if the entity has one.
    pub fn state(&self) -> Option<S>
    where
        S: Clone,
    {
        self.lock().clone()
    }

    /// Changes the state in place, starting from the default one if it had
    /// none, and gives what `change` gives.
    pub fn update<T>(&self, change: impl FnOnce(&mut S) -> T) -> T
    where
        S: Default,
    {
        change(self.lock().get_or_insert_with(S::default))
    }

    /// Replaces the state.
    pub fn set_state(&self, state: S) {
        *self.lock() = Some(state);
    }

    /// Deletes the state: the entity no longer exists afterwards.
    pub fn delete_state(&self) {
        *self.lock() = None;
    }

    /// The state, also after an operation panicked while holding it: the
    /// runner drops what a failed operation left anyway.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
