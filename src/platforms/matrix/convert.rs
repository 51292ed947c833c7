//! Matrix timeline events → `core::Inbound`. Text, images and locations are converted; a
//! number typed after a message with options (or in reply to it), or a keycap reaction to it,
//! becomes a button press once [`resolve_choice`] has found the message. Everything else — the bot's own
//! events, notices (other bots), edits, stickers, redactions, state events — is ignored.

use matrix_sdk::ruma::UserId;
use matrix_sdk::ruma::events::room::message::{MessageType, Relation};
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent};

use super::format::{KEYCAPS, chosen_option, options};
use crate::core::{Content, Inbound};
use crate::domain::Platform;
use crate::store::{Conn, outbox};

/// A message that may choose one of the options of an earlier bot message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A number typed: it answers the newest bot message in the room.
    Typed(usize),
    /// A number in reply to a bot message, or a keycap reaction to it (its event id).
    About {
        target: String,
        index: usize,
        reaction: bool,
    },
}

/// The inbound event, and the option it may choose.
pub fn convert(
    event: &AnySyncTimelineEvent,
    room_id: &str,
    is_direct: bool,
    bot: &UserId,
) -> Option<(Inbound, Option<Choice>)> {
    if event.sender() == bot {
        return None;
    }
    let AnySyncTimelineEvent::MessageLike(message) = event else {
        return None;
    };
    let sender = event.sender().to_string();
    let base = |content: Content, addressed: bool| Inbound {
        platform: Platform::Matrix,
        event_id: event.event_id().to_string(),
        chat_id: room_id.to_owned(),
        is_direct,
        sender: sender.clone(),
        content,
        addressed,
        // The bot can always open a direct room: until it has, the user id stands for it.
        sender_private_chat: Some(sender.clone()),
    };
    match message {
        AnySyncMessageLikeEvent::RoomMessage(SyncMessageLikeEvent::Original(m)) => {
            if matches!(m.content.relates_to, Some(Relation::Replacement(_))) {
                return None;
            }
            let mentioned = m
                .content
                .mentions
                .as_ref()
                .is_some_and(|mentions| mentions.user_ids.contains(bot));
            match &m.content.msgtype {
                MessageType::Text(text) => {
                    // A client that sent only a formatted body: its text without the markup.
                    let from_html = match (&text.body, &text.formatted) {
                        (b, Some(f)) if b.trim().is_empty() => Some(text_of_html(&f.body)),
                        _ => None,
                    };
                    let body = from_html.as_deref().unwrap_or(&text.body).trim();
                    let addressed = mentioned || mentions_by_name(body, bot);
                    let body = strip_mention(body, bot);
                    let replied_to = match &m.content.relates_to {
                        Some(Relation::Reply(reply)) => Some(reply.in_reply_to.event_id.to_string()),
                        _ => None,
                    };
                    let choice = chosen_option(&body).map(|index| match replied_to {
                        Some(target) => Choice::About {
                            target,
                            index,
                            reaction: false,
                        },
                        None => Choice::Typed(index),
                    });
                    Some((base(Content::Text(body), addressed), choice))
                }
                MessageType::Image(image) => {
                    let url = match &image.source {
                        matrix_sdk::ruma::events::room::MediaSource::Plain(url) => url.to_string(),
                        // An encrypted image's key would have to travel with it: not kept.
                        matrix_sdk::ruma::events::room::MediaSource::Encrypted(file) => file.url.to_string(),
                    };
                    let caption = (!image.body.is_empty() && image.filename.is_some()).then(|| image.body.clone());
                    Some((base(Content::Photo { file_id: url, caption }, mentioned), None))
                }
                MessageType::Location(location) => {
                    let (lat, lon) = parse_geo_uri(&location.geo_uri)?;
                    Some((base(Content::Location { lat, lon }, mentioned), None))
                }
                _ => None,
            }
        }
        AnySyncMessageLikeEvent::Reaction(SyncMessageLikeEvent::Original(r)) => {
            let index = KEYCAPS.iter().position(|k| *k == r.content.relates_to.key)?;
            let choice = Choice::About {
                target: r.content.relates_to.event_id.to_string(),
                index,
                reaction: true,
            };
            Some((base(Content::Text(String::new()), false), Some(choice)))
        }
        _ => None,
    }
}

/// The text of an HTML body: tags dropped (a line break for `<br>` and block ends), the five
/// entities of escaping decoded. Enough for a command or a question; nothing is rendered.
fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim_start_matches('/').to_lowercase();
        if tag.starts_with("br") || tag.starts_with('p') || tag.starts_with("div") || tag.starts_with("li") {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `@beatbot` or the full user id written in the text.
fn mentions_by_name(body: &str, bot: &UserId) -> bool {
    let lower = body.to_lowercase();
    lower.contains(&bot.as_str().to_lowercase()) || lower.contains(&format!("@{}", bot.localpart().to_lowercase()))
}

/// The text without a leading mention of the bot (`@beatbot: /help` → `/help`).
fn strip_mention(body: &str, bot: &UserId) -> String {
    for name in [bot.as_str().to_owned(), format!("@{}", bot.localpart())] {
        if body.get(..name.len()).is_some_and(|p| p.eq_ignore_ascii_case(&name)) {
            return body[name.len()..].trim_start_matches([':', ',', ' ']).trim().to_owned();
        }
    }
    body.to_owned()
}

/// `geo:31.23,121.47` (with optional `;u=…`) → (lat, lon).
pub fn parse_geo_uri(uri: &str) -> Option<(f64, f64)> {
    let rest = uri.strip_prefix("geo:")?;
    let coords = rest.split(';').next()?;
    let mut parts = coords.split(',');
    let lat: f64 = parts.next()?.trim().parse().ok()?;
    let lon: f64 = parts.next()?.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Turns a chosen option into the press of that button, if the message it answers offered
/// one. A reaction that chooses nothing is dropped (`false`); a typed number that answers no
/// options stays text.
pub async fn resolve_choice(conn: &mut Conn, inbound: &mut Inbound, choice: Option<Choice>) -> anyhow::Result<bool> {
    let (offered, index, is_reaction) = match choice {
        None => return Ok(true),
        Some(Choice::Typed(index)) => (
            outbox::last_delivered(conn, Platform::Matrix, &inbound.chat_id).await?,
            index,
            false,
        ),
        Some(Choice::About {
            target,
            index,
            reaction,
        }) => (
            outbox::offered_by_platform_message(conn, Platform::Matrix, &inbound.chat_id, &target).await?,
            index,
            reaction,
        ),
    };
    let pressed = offered.and_then(|(row, buttons)| {
        options(&buttons).get(index).map(|b| Content::Press {
            data: b.data.clone(),
            message: Some(row),
        })
    });
    match pressed {
        Some(press) => {
            inbound.content = press;
            Ok(true)
        }
        None => Ok(!is_reaction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geo_uris_are_read_and_checked() {
        assert_eq!(parse_geo_uri("geo:31.23,121.47"), Some((31.23, 121.47)));
        assert_eq!(parse_geo_uri("geo:31.23,121.47;u=35"), Some((31.23, 121.47)));
        assert_eq!(parse_geo_uri("geo:91,0"), None);
        assert_eq!(parse_geo_uri("31.23,121.47"), None);
    }

    fn event(kind: &str, sender: &str, content: serde_json::Value, state_key: Option<&str>) -> AnySyncTimelineEvent {
        let mut json = serde_json::json!({
            "type": kind,
            "event_id": "$e1",
            "sender": sender,
            "origin_server_ts": 1,
            "content": content,
        });
        if let Some(key) = state_key {
            json["state_key"] = key.into();
        }
        serde_json::from_value(json).expect("a valid event")
    }

    fn converted(ev: &AnySyncTimelineEvent) -> Option<(Inbound, Option<Choice>)> {
        let bot = <&UserId>::try_from("@beatbot:localhost").unwrap();
        convert(ev, "!room:localhost", false, bot)
    }

    #[test]
    fn what_the_bot_does_not_handle_is_ignored() {
        let text = |body: &str| serde_json::json!({"msgtype": "m.text", "body": body});
        // Its own messages, other bots' notices, edits, stickers, redactions, state events.
        assert!(converted(&event("m.room.message", "@beatbot:localhost", text("/help"), None)).is_none());
        let notice = serde_json::json!({"msgtype": "m.notice", "body": "/help"});
        assert!(converted(&event("m.room.message", "@other:localhost", notice, None)).is_none());
        let edit = serde_json::json!({
            "msgtype": "m.text", "body": "* /help",
            "m.new_content": {"msgtype": "m.text", "body": "/help"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$e0"},
        });
        assert!(converted(&event("m.room.message", "@li:localhost", edit, None)).is_none());
        let sticker = serde_json::json!({"body": "cat", "url": "mxc://localhost/x", "info": {}});
        assert!(converted(&event("m.sticker", "@li:localhost", sticker, None)).is_none());
        let redaction = serde_json::json!({"redacts": "$e0"});
        assert!(converted(&event("m.room.redaction", "@li:localhost", redaction, None)).is_none());
        let member = serde_json::json!({"membership": "join"});
        assert!(converted(&event("m.room.member", "@li:localhost", member, Some("@li:localhost"))).is_none());
        // A reaction that is no option's keycap.
        let thumbs = serde_json::json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e0", "key": "👍"}});
        assert!(converted(&event("m.reaction", "@li:localhost", thumbs, None)).is_none());
    }

    #[test]
    fn text_images_locations_and_choices_are_converted() {
        let text = serde_json::json!({"msgtype": "m.text", "body": "@beatbot: /help"});
        let (inbound, choice) = converted(&event("m.room.message", "@li:localhost", text, None)).unwrap();
        assert_eq!(inbound.content, Content::Text("/help".into()));
        assert!(inbound.addressed && choice.is_none());
        assert_eq!(inbound.sender_private_chat.as_deref(), Some("@li:localhost"));
        let two = serde_json::json!({"msgtype": "m.text", "body": "2"});
        let (_, choice) = converted(&event("m.room.message", "@li:localhost", two, None)).unwrap();
        assert_eq!(choice, Some(Choice::Typed(1)));
        let keycap = serde_json::json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e0", "key": "3️⃣"}});
        let (_, choice) = converted(&event("m.reaction", "@li:localhost", keycap, None)).unwrap();
        assert_eq!(
            choice,
            Some(Choice::About {
                target: "$e0".into(),
                index: 2,
                reaction: true
            })
        );
        let image = serde_json::json!({"msgtype": "m.image", "body": "bag.jpg", "url": "mxc://localhost/bag"});
        let (inbound, _) = converted(&event("m.room.message", "@li:localhost", image, None)).unwrap();
        assert!(matches!(inbound.content, Content::Photo { ref file_id, .. } if file_id == "mxc://localhost/bag"));
        let location = serde_json::json!({"msgtype": "m.location", "body": "here", "geo_uri": "geo:31.2,121.4"});
        let (inbound, _) = converted(&event("m.room.message", "@li:localhost", location, None)).unwrap();
        assert_eq!(inbound.content, Content::Location { lat: 31.2, lon: 121.4 });
        let formatted_only = serde_json::json!({
            "msgtype": "m.text", "body": "", "format": "org.matrix.custom.html", "formatted_body": "<b>/tip</b>",
        });
        let (inbound, _) = converted(&event("m.room.message", "@li:localhost", formatted_only, None)).unwrap();
        assert_eq!(inbound.content, Content::Text("/tip".into()));
    }

    #[test]
    fn a_formatted_body_reads_as_its_text() {
        assert_eq!(text_of_html("<b>/help</b>"), "/help");
        assert_eq!(text_of_html("a &amp; b<br>c &lt;d&gt;"), "a & b\nc <d>");
        assert_eq!(text_of_html("unclosed <b"), "unclosed ");
    }

    #[test]
    fn a_leading_mention_is_taken_off() {
        let bot = <&UserId>::try_from("@beatbot:localhost").unwrap();
        assert_eq!(strip_mention("@beatbot: /help", bot), "/help");
        assert_eq!(strip_mention("@beatbot:localhost /help", bot), "/help");
        assert_eq!(strip_mention("hello @beatbot", bot), "hello @beatbot");
        assert!(mentions_by_name("hello @BeatBot", bot));
        assert!(!mentions_by_name("hello", bot));
    }
}
