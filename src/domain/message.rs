//! What a bot message carries besides text: buttons.

use serde::{Deserialize, Serialize};

/// A button under a message. `data` comes back in a press and is parsed by the core; on
/// platforms without buttons (Matrix) it is offered as a numbered option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub data: String,
}

impl Button {
    pub fn new(label: impl Into<String>, data: impl Into<String>) -> Button {
        Button {
            label: label.into(),
            data: data.into(),
        }
    }
}
