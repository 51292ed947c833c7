//! The Telegram adapter (teloxide's Bot API client): updates arrive by long polling
//! ([`poll`]) or by webhook ([`register_webhook`], served by `crate::web`), each confirmed only
//! after its transaction commits; conversion of updates into `core::Inbound`; delivery of
//! outbox rows as HTML messages with inline keyboards, spaced to Telegram's per-chat and
//! global limits ([`Limits`]); the command menus ([`set_commands`]) and the `t.me` deep links
//! of enrolment codes ([`start_link`]). A private chat Telegram refuses (403) is announced in
//! the group where the person wrote, by the delivery worker.

mod convert;
mod deliver;
pub mod format;
mod ingress;
mod polling;

pub use convert::convert;
pub use deliver::{Limits, TelegramDeliverer};
pub use ingress::handle_update;
pub use polling::poll;

use anyhow::{Context, Result};
use teloxide::Bot;

/// Registers `url` as the webhook, with `secret` for Telegram to send back in every request.
pub async fn register_webhook(bot: &Bot, url: &url::Url, secret: &str) -> Result<()> {
    use teloxide::payloads::SetWebhookSetters as _;
    use teloxide::prelude::Requester;
    bot.set_webhook(url.clone())
        .secret_token(secret)
        .await
        .context("setWebhook")?;
    Ok(())
}

/// The beginning of a link that opens a private chat with the bot and sends `/start PAYLOAD`.
pub fn start_link(username: &str) -> String {
    format!("https://t.me/{username}?start=")
}

/// Sets the command menus: residents' and front desks' private chats, groups, and each
/// officer's private chat (everything), in Chinese and English.
pub async fn set_commands(bot: &Bot, app: &crate::app::App) -> Result<()> {
    use crate::core::help::{MenuScope, menu};
    use crate::domain::Lang;
    use teloxide::payloads::SetMyCommandsSetters as _;
    use teloxide::prelude::Requester;
    use teloxide::types::{BotCommand, BotCommandScope, ChatId, Recipient};
    let commands = |lang, scope| {
        menu(&app.scripts, lang, scope)
            .into_iter()
            .map(|(c, d)| BotCommand::new(c, d))
            .collect::<Vec<_>>()
    };
    let mut tx = app.store.begin().await?;
    let officers = crate::store::people::staff_chats(&mut tx, crate::domain::Platform::Telegram).await?;
    tx.commit().await?;
    for lang in [Lang::Zh, Lang::En] {
        let scopes = [
            (BotCommandScope::AllPrivateChats, MenuScope::Private),
            (BotCommandScope::AllGroupChats, MenuScope::Group),
        ];
        for (scope, which) in scopes {
            bot.set_my_commands(commands(lang, which))
                .scope(scope)
                .language_code(lang.code())
                .await
                .context("setMyCommands")?;
        }
        for chat in &officers {
            let Ok(id) = chat.parse::<i64>() else { continue };
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(ChatId(id)),
            };
            bot.set_my_commands(commands(lang, MenuScope::Officer))
                .scope(scope)
                .language_code(lang.code())
                .await
                .context("setMyCommands")?;
        }
    }
    Ok(())
}

/// A Bot API client for `token`, talking to `api_url` (Telegram's own, a local Bot API server,
/// or the fake one in tests), giving up on a request after 40 s (long polls wait 25 s).
pub fn bot(token: &str, api_url: &str) -> Result<Bot> {
    bot_with_timeout(token, api_url, std::time::Duration::from_secs(40))
}

/// [`bot`] with another request timeout (tests of dropped connections use a short one).
pub fn bot_with_timeout(token: &str, api_url: &str, timeout: std::time::Duration) -> Result<Bot> {
    let url = url::Url::parse(api_url).with_context(|| format!("telegram.api_url `{api_url}` is not a URL"))?;
    let client = teloxide::net::default_reqwest_settings()
        .timeout(timeout)
        .build()
        .context("building the HTTP client")?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}
