//! The console adapter: the whole bot without a network. Group chats are named by their id
//! (`hotels`), a person's private chat is `dm:NAME`; delivered messages are kept in a log (for
//! transcripts) and optionally printed (for the demo). The platform message id of a console
//! message is its outbox id, so edits find their original.

use std::sync::{Arc, Mutex};

use crate::core::{Content, Inbound};
use crate::domain::{Button, Platform};
use crate::store::outbox::Message;
use crate::workers::delivery::{Deliverer, DeliveryError};

/// A message as the console delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub outbox_id: i64,
    pub chat_id: String,
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    /// The outbox id of the message this one replaced.
    pub edit_of: Option<i64>,
    /// It came with a photo.
    pub photo: bool,
}

#[derive(Clone, Default)]
pub struct Console {
    log: Arc<Mutex<Vec<Delivered>>>,
    echo: bool,
}

/// The private chat id of a console user.
pub fn dm_chat(user: &str) -> String {
    format!("dm:{user}")
}

impl Console {
    /// A console that prints what it delivers.
    pub fn printing() -> Console {
        Console {
            log: Arc::default(),
            echo: true,
        }
    }

    /// Everything delivered so far.
    pub fn log(&self) -> Vec<Delivered> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An inbound event from `user` in `chat` (a group id, or `None` for their DM).
    pub fn inbound(event_id: String, chat: Option<&str>, user: &str, content: Content) -> Inbound {
        let (chat_id, is_direct) = match chat {
            Some(group) => (group.to_owned(), false),
            None => (dm_chat(user), true),
        };
        let addressed = matches!(&content, Content::Text(t) if t.contains("@beatbot"));
        // A console user's private chat exists only once they have written to the bot there
        // (as on Matrix), so transcripts can show what happens before that.
        Inbound {
            platform: Platform::Console,
            event_id,
            chat_id,
            is_direct,
            sender: user.to_owned(),
            content,
            addressed,
            sender_private_chat: None,
        }
    }
}

fn render(d: &Delivered) -> String {
    let place = match d.chat_id.strip_prefix("dm:") {
        Some(user) => format!("[dm {user}]"),
        None => format!("[{}]", d.chat_id),
    };
    let edited = if d.edit_of.is_some() { " (edited)" } else { "" };
    let photo = if d.photo { "[photo] " } else { "" };
    let mut out = format!("{place} beatbot{edited}: {photo}{}", d.text.replace('\n', "\n    "));
    for row in &d.buttons {
        let labels: Vec<String> = row.iter().map(|b| format!("[{}]", b.label)).collect();
        out.push_str(&format!("\n    {}", labels.join(" ")));
    }
    out
}

impl Deliverer for Console {
    async fn deliver(&self, message: &Message, edit_target: Option<&str>) -> Result<String, DeliveryError> {
        let delivered = Delivered {
            outbox_id: message.id,
            chat_id: message.chat_id.clone(),
            text: message.text.clone(),
            buttons: message.buttons.clone(),
            edit_of: edit_target.and_then(|t| t.parse().ok()),
            photo: message.photo.is_some(),
        };
        if self.echo {
            println!("{}", render(&delivered));
        }
        let id = delivered.edit_of.unwrap_or(message.id);
        self.log
            .lock()
            .map_err(|_| DeliveryError::Permanent("console log poisoned".into()))?
            .push(delivered);
        Ok(id.to_string())
    }
}
