//! What a bot message carries besides text: buttons.

use serde::{Deserialize, Serialize};

/// A button under a message. `data` (a [`super::Press`] encoded) comes back in a press; on
/// platforms without buttons (Matrix) it is offered as a numbered option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub data: String,
}

impl Button {
    /// A button that does `press`.
    pub fn new(label: impl Into<String>, press: &super::Press) -> Button {
        Button {
            label: label.into(),
            data: press.encode(),
        }
    }
}
