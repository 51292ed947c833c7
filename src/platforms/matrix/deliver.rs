//! Delivering outbox rows to Matrix: an `m.notice` with a plain and an HTML body (options
//! numbered), an answer as a reply to the message it answers, an edit as `m.replace`, a photo
//! as `m.image` before its text. Every send carries
//! a transaction id derived from the outbox row, so a retry after a crash is the same event,
//! not a second one. A row addressed to a user id (no direct room yet) opens the direct room
//! and remembers it. The SDK's own retries are off: `M_LIMIT_EXCEEDED` comes back to the
//! worker with its `retry_after_ms`.

use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::relation::Reply;
use matrix_sdk::ruma::events::room::message::{
    ImageMessageEventContent, MessageType, Relation, ReplacementMetadata, RoomMessageEventContent,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedMxcUri, OwnedTransactionId, OwnedUserId, RoomId};
use matrix_sdk::{Client, Room, RoomState};

use super::format::{html_body, plain_body};
use crate::app::App;
use crate::domain::Platform;
use crate::store::outbox::{self, Message};
use crate::workers::delivery::{Deliverer, DeliveryError};

pub struct MatrixDeliverer {
    client: Client,
    app: App,
}

impl MatrixDeliverer {
    pub fn new(client: Client, app: App) -> MatrixDeliverer {
        MatrixDeliverer { client, app }
    }

    /// The room for a row's chat: a room id, or a user id whose direct room is found or made.
    async fn room(&self, chat_id: &str) -> Result<Room, DeliveryError> {
        if chat_id.starts_with('@') {
            return self.direct_room(chat_id).await;
        }
        let room_id =
            <&RoomId>::try_from(chat_id).map_err(|e| DeliveryError::Permanent(format!("bad room id: {e}")))?;
        match self.client.get_room(room_id) {
            Some(room) if room.state() == RoomState::Joined => Ok(room),
            Some(_) => Err(DeliveryError::Gone("the bot is not in this room".into())),
            None => Err(DeliveryError::Retry {
                after_ms: Some(2_000),
                reason: "room not known yet".into(),
            }),
        }
    }

    async fn direct_room(&self, user: &str) -> Result<Room, DeliveryError> {
        let user_id = OwnedUserId::try_from(user).map_err(|e| DeliveryError::Permanent(format!("bad user id: {e}")))?;
        let room = match self.client.get_dm_room(&user_id) {
            Some(room) => room,
            None => self.client.create_dm(&user_id).await.map_err(classify)?,
        };
        let now = self.app.now();
        let remembered = async {
            let mut tx = self.app.store.begin().await?;
            outbox::open_private_chat(&mut tx, Platform::Matrix, user, room.room_id().as_str(), now).await?;
            tx.commit().await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = remembered {
            tracing::warn!(error = %format!("{e:#}"), "could not remember a new direct room");
        }
        Ok(room)
    }
}

fn transaction_id(message: &Message, part: &str) -> OwnedTransactionId {
    OwnedTransactionId::from(format!("beatbot-{}{part}", message.id))
}

/// A failed request, as the worker understands it.
pub fn classify(e: matrix_sdk::Error) -> DeliveryError {
    match e.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(data)) => {
            let after_ms = data.retry_after.as_ref().map(|r| match r {
                RetryAfter::Delay(d) => d.as_millis() as i64,
                RetryAfter::DateTime(t) => t
                    .duration_since(std::time::SystemTime::now())
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            });
            DeliveryError::Retry {
                after_ms,
                reason: "M_LIMIT_EXCEEDED".into(),
            }
        }
        Some(ErrorKind::Forbidden) => DeliveryError::Gone("M_FORBIDDEN".into()),
        _ => match e {
            matrix_sdk::Error::WrongRoomState(w) => DeliveryError::Gone(w.to_string()),
            other => DeliveryError::Retry {
                after_ms: None,
                reason: other.to_string(),
            },
        },
    }
}

impl MatrixDeliverer {
    /// Redacts the image the bot sent just before its message `text_event` (a notice's photo is
    /// its own event, sent first). Found by the room's context around the message: the nearest
    /// earlier image from the bot itself; none (already redacted, or never sent) is fine.
    async fn redact_photo_before(
        &self,
        room: &matrix_sdk::Room,
        text_event: &OwnedEventId,
    ) -> Result<(), DeliveryError> {
        use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent};
        let context = room
            .event_with_context(text_event, false, matrix_sdk::ruma::uint!(6), None)
            .await
            .map_err(classify)?;
        let own = room.own_user_id().to_owned();
        let photo = context.events_before.iter().find_map(|e| match e.raw().deserialize() {
            Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                SyncMessageLikeEvent::Original(m),
            ))) if m.sender == own && matches!(m.content.msgtype, MessageType::Image(_)) => Some(m.event_id),
            _ => None,
        });
        if let Some(photo) = photo {
            room.redact(&photo, Some("notice closed"), None)
                .await
                .map_err(|e| DeliveryError::Retry {
                    after_ms: None,
                    reason: format!("redacting a notice's photo: {e}"),
                })?;
        }
        Ok(())
    }
}

/// Messages claimed at once, their rooms served side by side.
const MATRIX_BATCH: i64 = 80;

impl Deliverer for MatrixDeliverer {
    /// A homeserver takes tens of milliseconds per send and (with the bot exempted from its
    /// rate limit) has no budget to keep: more rooms in flight at once (1,000 rooms took 31.6 s
    /// with ten, 19.9 s with 40, 19.1 s with 80; see docs/benchmarks.md).
    fn batch(&self) -> i64 {
        MATRIX_BATCH
    }

    async fn deliver(&self, message: &Message, edit_target: Option<&str>) -> Result<String, DeliveryError> {
        let room = self.room(&message.chat_id).await?;
        let once = RequestConfig::new().disable_retry();
        if edit_target.is_none()
            && let Some(url) = message.photo.as_deref().filter(|u| u.starts_with("mxc://"))
        {
            let url = OwnedMxcUri::from(url);
            let image = RoomMessageEventContent::new(MessageType::Image(ImageMessageEventContent::plain(
                "photo".to_owned(),
                url,
            )));
            room.send(image)
                .with_transaction_id(transaction_id(message, "-photo"))
                .with_request_config(once)
                .await
                .map_err(classify)?;
        }
        let mut content = RoomMessageEventContent::notice_html(
            plain_body(&message.text, &message.buttons),
            html_body(&message.text, &message.buttons),
        );
        if let Some(target) = edit_target {
            let target =
                OwnedEventId::try_from(target).map_err(|e| DeliveryError::Permanent(format!("bad event id: {e}")))?;
            if message.photo.as_deref() == Some(crate::core::notices::REMOVE_PHOTO) {
                self.redact_photo_before(&room, &target).await?;
            }
            content = content.make_replacement(ReplacementMetadata::new(target, None));
        } else if let Some(asked) = message
            .reply_to
            .as_deref()
            .and_then(|id| OwnedEventId::try_from(id).ok())
        {
            // An answer shows as a reply to the message it answers.
            content.relates_to = Some(Relation::Reply(Reply::with_event_id(asked)));
        }
        let sent = room
            .send(content)
            .with_transaction_id(transaction_id(message, ""))
            .with_request_config(once)
            .await
            .map_err(classify)?;
        Ok(sent.response.event_id.to_string())
    }

    /// Uploads the picture once (its `mxc://` URI serves every later send), then sends it.
    async fn deliver_upload(&self, message: &Message, png: &[u8]) -> Result<(String, String), DeliveryError> {
        let upload = self
            .client
            .media()
            .upload(&mime::IMAGE_PNG, png.to_vec(), None)
            .await
            .map_err(classify)?;
        let mxc = upload.content_uri.to_string();
        let mut with_photo = message.clone();
        with_photo.photo = Some(mxc.clone());
        let id = self.deliver(&with_photo, None).await?;
        Ok((id, mxc))
    }
}
