//! Telegram update → `core::Inbound`. Everything the bot does not handle — edited messages,
//! channel posts, messages from channels or anonymous admins, forwards, stickers, service
//! messages, other bots — converts to `None` and is only confirmed.

use teloxide::types::{Message, Update, UpdateKind};

use crate::core::{Content, Inbound};
use crate::domain::Platform;

/// The inbound event of an update, if it is one the bot handles. `bot_username` (without `@`)
/// recognises mentions; `message_of_press` maps a pressed message to its outbox row.
pub fn convert(update: &Update, bot_username: &str, message_of_press: Option<i64>) -> Option<Inbound> {
    let event_id = update.id.0.to_string();
    match &update.kind {
        UpdateKind::Message(message) => from_message(event_id, message, bot_username),
        UpdateKind::CallbackQuery(query) => {
            let data = query.data.clone()?;
            let message = query.message.as_ref()?;
            let chat = message.chat();
            Some(Inbound {
                platform: Platform::Telegram,
                event_id,
                chat_id: chat.id.0.to_string(),
                is_direct: chat.is_private(),
                sender: query.from.id.0.to_string(),
                content: Content::Press {
                    data,
                    message: message_of_press,
                },
                addressed: true,
                sender_private_chat: Some(query.from.id.0.to_string()),
            })
        }
        UpdateKind::MyChatMember(change) => {
            // The bot itself was added to a group (or made an admin there).
            let joined = change.new_chat_member.is_present() && !change.old_chat_member.is_present();
            (joined && !change.chat.is_private()).then(|| Inbound {
                platform: Platform::Telegram,
                event_id,
                chat_id: change.chat.id.0.to_string(),
                is_direct: false,
                sender: change.from.id.0.to_string(),
                content: Content::Joined,
                addressed: true,
                sender_private_chat: Some(change.from.id.0.to_string()),
            })
        }
        _ => None,
    }
}

fn from_message(event_id: String, message: &Message, bot_username: &str) -> Option<Inbound> {
    let from = message.from.as_ref()?;
    if from.is_bot || message.sender_chat.is_some() || message.forward_origin().is_some() || message.via_bot.is_some() {
        return None;
    }
    let added_me = message.new_chat_members().is_some_and(|members| {
        members
            .iter()
            .any(|u| u.is_bot && u.username.as_deref() == Some(bot_username))
    });
    let content = if added_me {
        Content::Joined
    } else if let Some(text) = message.text() {
        Content::Text(text.to_owned())
    } else if let Some(photos) = message.photo() {
        let largest = photos.iter().max_by_key(|p| p.width * p.height)?;
        Content::Photo {
            file_id: largest.file.id.0.clone(),
            caption: message.caption().map(str::to_owned),
        }
    } else if let Some(location) = message.location() {
        Content::Location {
            lat: location.latitude,
            lon: location.longitude,
        }
    } else {
        return None;
    };
    let mention = format!("@{}", bot_username.to_lowercase());
    let addressed = match &content {
        Content::Text(t) => t.to_lowercase().contains(&mention),
        _ => false,
    } || message
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.is_bot && u.username.as_deref() == Some(bot_username));
    let content = match content {
        Content::Text(t) => Content::Text(strip_mention(&t, &mention)),
        other => other,
    };
    Some(Inbound {
        platform: Platform::Telegram,
        event_id,
        chat_id: message.chat.id.0.to_string(),
        is_direct: message.chat.is_private(),
        sender: from.id.0.to_string(),
        content,
        addressed,
        sender_private_chat: Some(from.id.0.to_string()),
    })
}

/// `@beatbot_bot where is the station?` → `where is the station?` (commands keep their
/// `/cmd@bot` form, which the command parser understands).
fn strip_mention(text: &str, mention: &str) -> String {
    let lower = text.to_lowercase();
    match lower.find(mention) {
        Some(i) if !text.starts_with('/') && text.is_char_boundary(i) && text.is_char_boundary(i + mention.len()) => {
            format!("{}{}", &text[..i], &text[i + mention.len()..])
                .trim()
                .to_owned()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(value: serde_json::Value) -> Update {
        serde_json::from_str(&value.to_string()).expect("a valid update")
    }

    fn message(extra: serde_json::Value) -> serde_json::Value {
        let mut m = json!({
            "message_id": 5, "date": 1_795_000_000,
            "chat": { "id": -100123, "type": "supergroup", "title": "Jinjiang Inn desk" },
            "from": { "id": 601, "is_bot": false, "first_name": "Li" },
        });
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    }

    #[test]
    fn a_group_text_becomes_an_inbound_text() {
        let u = update(json!({ "update_id": 7, "message": message(json!({ "text": "/report noid room=305" })) }));
        let inbound = convert(&u, "beatbot_bot", None).unwrap();
        assert_eq!(
            (
                inbound.event_id.as_str(),
                inbound.chat_id.as_str(),
                inbound.sender.as_str()
            ),
            ("7", "-100123", "601")
        );
        assert!(!inbound.is_direct);
        assert_eq!(inbound.content, Content::Text("/report noid room=305".into()));
    }

    #[test]
    fn a_mention_addresses_the_bot_and_is_stripped() {
        let u = update(
            json!({ "update_id": 8, "message": message(json!({ "text": "@BeatBot_bot where is the office?" })) }),
        );
        let inbound = convert(&u, "beatbot_bot", None).unwrap();
        assert!(inbound.addressed);
        assert_eq!(inbound.content, Content::Text("where is the office?".into()));
    }

    #[test]
    fn edits_channel_posts_anonymous_admins_forwards_and_stickers_are_ignored() {
        let edited = update(
            json!({ "update_id": 1, "edited_message": message(json!({ "text": "x", "edit_date": 1_795_000_001 })) }),
        );
        assert!(convert(&edited, "b", None).is_none());
        let anonymous = update(json!({ "update_id": 2, "message": message(json!({ "text": "x",
            "sender_chat": { "id": -100123, "type": "supergroup", "title": "t" } })) }));
        assert!(convert(&anonymous, "b", None).is_none());
        let forwarded = update(json!({ "update_id": 3, "message": message(json!({ "text": "x",
            "forward_origin": { "type": "hidden_user", "sender_user_name": "someone", "date": 1_795_000_000 } })) }));
        assert!(convert(&forwarded, "b", None).is_none());
        let sticker = update(json!({ "update_id": 4, "message": message(json!({ "sticker": {
            "file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1, "is_animated": false, "is_video": false } })) }));
        assert!(convert(&sticker, "b", None).is_none());
    }

    #[test]
    fn the_bot_being_added_to_a_group_is_a_join() {
        let u = update(
            json!({ "update_id": 10, "message": message(json!({ "new_chat_members": [
            { "id": 424242, "is_bot": true, "first_name": "beatbot", "username": "beatbot_bot" } ] })) }),
        );
        assert_eq!(convert(&u, "beatbot_bot", None).unwrap().content, Content::Joined);
        let someone_else = update(
            json!({ "update_id": 11, "message": message(json!({ "new_chat_members": [
            { "id": 77, "is_bot": false, "first_name": "Zhao" } ] })) }),
        );
        assert!(convert(&someone_else, "beatbot_bot", None).is_none());
    }

    #[test]
    fn a_button_press_carries_its_data_and_message() {
        let u = update(json!({ "update_id": 9, "callback_query": {
            "id": "cb1", "from": { "id": 501, "is_bot": false, "first_name": "Wang" }, "chat_instance": "c", "data": "ack:3",
            "message": { "message_id": 77, "date": 1_795_000_000, "chat": { "id": 501, "type": "private", "first_name": "Wang" }, "text": "t" } } }));
        let inbound = convert(&u, "b", Some(12)).unwrap();
        assert!(inbound.is_direct);
        assert_eq!(
            inbound.content,
            Content::Press {
                data: "ack:3".into(),
                message: Some(12)
            }
        );
    }
}
