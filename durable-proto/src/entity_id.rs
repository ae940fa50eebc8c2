//! An entity's id: `@name@key` where the wire names an entity as an
//! instance.

use std::fmt;

/// An entity: its function's name and its key, `@name@key` on the wire.
/// The name is lower-cased, as the extension does.
///
/// ```
/// use durable_proto::EntityId;
///
/// let id = EntityId::new("Counter", "a@b");
/// assert_eq!(id.to_string(), "@counter@a@b");
/// assert_eq!(EntityId::parse("@counter@a@b"), Some(id));
/// assert_eq!(EntityId::parse("counter@a"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityId {
    name: String,
    key: String,
}

impl EntityId {
    /// The entity `key` of entity function `name`.
    pub fn new(name: &str, key: &str) -> EntityId {
        EntityId {
            name: name.to_lowercase(),
            key: key.to_owned(),
        }
    }

    /// Reads `@name@key` (the key may hold `@`); `None` for anything else.
    pub fn parse(instance_id: &str) -> Option<EntityId> {
        let (name, key) = instance_id.strip_prefix('@')?.split_once('@')?;
        (!name.is_empty()).then(|| EntityId::new(name, key))
    }

    /// The entity function's name, lower-cased.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entity's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}@{}", self.name, self.key)
    }
}
