//! What a handler works with: the transaction, the scripts, the sender, the chat, and the
//! messages it has produced so far.

use std::sync::Arc;

use anyhow::Result;

use super::Inbound;
use super::faq::FaqService;
use crate::domain::{Button, Lang};
use crate::scripts::Scripts;
use crate::store::Tx;
use crate::store::groups::Group;
use crate::store::people::{self, Person};

/// Where an outbound message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A chat on a platform (a group, or the chat the event came from).
    Chat {
        platform: crate::domain::Platform,
        chat_id: String,
    },
    /// A person, in their private chat on the platform they used last.
    Person(i64),
}

/// A message the core wants sent; it becomes an outbox row in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub to: Recipient,
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    /// Replace the message of this earlier outbox row instead of sending a new one.
    pub edit_of: Option<i64>,
    pub priority: i64,
    pub alert_id: Option<i64>,
    /// A photo to send with the text as its caption (the platform's file id).
    pub photo: Option<String>,
    /// The platform id of the event this answers (adapters that can show a reply do).
    pub reply_to: Option<String>,
}

impl Outbound {
    pub fn new(to: Recipient, text: String) -> Outbound {
        Outbound {
            to,
            text,
            buttons: Vec::new(),
            edit_of: None,
            priority: 0,
            alert_id: None,
            photo: None,
            reply_to: None,
        }
    }
    pub fn buttons(mut self, buttons: Vec<Vec<Button>>) -> Outbound {
        self.buttons = buttons;
        self
    }
}

/// A mistake of the person's, explained with a template in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl UserError {
    pub fn new(key: &'static str) -> UserError {
        UserError { key, args: Vec::new() }
    }
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> UserError {
        self.args.push((name, value.into()));
        self
    }
}

pub struct Ctx<'a> {
    pub tx: &'a mut Tx,
    pub scripts: &'a Scripts,
    pub faq: &'a Arc<FaqService>,
    pub now: i64,
    pub inbound: &'a Inbound,
    pub me: Person,
    pub lang: Lang,
    /// The linked group the event came from (`None` in DM).
    pub group: Option<Group>,
    /// The identity the sender wrote from has a private chat with the bot (if not, another of
    /// their identities may).
    pub private_chat_known: bool,
    /// How a link into a private chat with the bot starts on this platform, with the payload
    /// to be appended (`https://t.me/<bot>?start=`), where the platform has such links.
    pub start_link: Option<String>,
    pub out: Vec<Outbound>,
}

impl Ctx<'_> {
    /// A template in the sender's language.
    pub fn msg(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.scripts.templates.render(self.lang, key, args)
    }

    /// The chat the event came from.
    pub fn here(&self) -> Recipient {
        Recipient::Chat {
            platform: self.inbound.platform,
            chat_id: self.inbound.chat_id.clone(),
        }
    }

    /// An answer in the chat the event came from, as a reply to it.
    pub fn reply(&mut self, text: String) {
        self.reply_with(text, Vec::new());
    }

    pub fn reply_with(&mut self, text: String, buttons: Vec<Vec<Button>>) {
        let to = self.here();
        let mut out = Outbound::new(to, text).buttons(buttons);
        out.reply_to = Some(self.inbound.event_id.clone());
        self.out.push(out);
    }

    /// A message to the sender's private chat.
    pub fn to_me(&mut self, text: String, buttons: Vec<Vec<Button>>) {
        let to = if self.inbound.is_direct {
            self.here()
        } else {
            Recipient::Person(self.me.id)
        };
        self.out.push(Outbound::new(to, text).buttons(buttons));
    }

    pub fn send(&mut self, out: Outbound) {
        self.out.push(out);
    }

    /// The station a resident acts for here: the linked group's, else their own.
    pub fn station(&self) -> Option<String> {
        // In a linked group, that group's station: a resident may belong to several.
        self.group
            .as_ref()
            .map(|g| g.station_id.clone())
            .or_else(|| self.me.station_id.clone())
    }

    /// The language to write to another person in.
    pub fn lang_of(&self, person: &Person) -> Lang {
        language_of(self.scripts, person)
    }

    /// A template rendered in `person`'s language, addressed to their private chat.
    pub async fn tell(
        &mut self,
        person: &Person,
        key: &str,
        args: &[(&str, &str)],
        buttons: Vec<Vec<Button>>,
    ) -> Result<()> {
        let lang = self.lang_of(person);
        let text = self.scripts.templates.render(lang, key, args);
        self.out
            .push(Outbound::new(Recipient::Person(person.id), text).buttons(buttons));
        Ok(())
    }

    /// Appends an action by the sender to a ticket's history.
    pub async fn log_ticket(&mut self, ticket: i64, action: &str, detail: Option<&str>) -> Result<()> {
        let platform = self.inbound.platform.as_str();
        crate::store::tickets::log(self.tx, ticket, Some(self.me.id), platform, action, detail, self.now).await
    }

    pub async fn person(&mut self, id: i64) -> Result<Option<Person>> {
        people::by_id(self.tx, id).await
    }
}

/// The language a station writes to its groups in: its own, else bot-scripts' default.
pub async fn station_language(tx: &mut Tx, scripts: &Scripts, station: &str) -> Result<Lang> {
    Ok(crate::store::stations::get(tx, station)
        .await?
        .map(|s| s.lang)
        .unwrap_or(scripts.settings.default_lang))
}

/// A person's language: their choice, else their station's, else bot-scripts' default.
pub fn language_of(scripts: &Scripts, person: &Person) -> Lang {
    person
        .lang
        .or(person.station_lang)
        .unwrap_or(scripts.settings.default_lang)
}
