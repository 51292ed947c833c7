//! The Telegram adapter (teloxide's Bot API client): long polling that confirms an update only
//! after its transaction commits, conversion of updates into `core::Inbound`, and delivery of
//! outbox rows as HTML messages with inline keyboards.
//!
//! Not built yet (see the notes of issue 3): webhook mode, the per-chat and global rate
//! budgets in the delivery worker, the command menu, deep links and the DM hand-off on 403.

mod convert;
mod deliver;
pub mod format;
mod polling;

pub use convert::convert;
pub use deliver::{Limits, TelegramDeliverer};
pub use polling::poll;

use anyhow::{Context, Result};
use teloxide::Bot;

/// Registers `url` as the webhook, with `secret` for Telegram to send back in every request;
/// returns the bot's username.
pub async fn register_webhook(bot: &Bot, url: &str, secret: &str) -> Result<String> {
    use teloxide::payloads::SetWebhookSetters as _;
    use teloxide::prelude::Requester;
    let me = bot.get_me().await.context("getMe")?;
    let url = url::Url::parse(url).with_context(|| format!("telegram.webhook_url `{url}` is not a URL"))?;
    bot.set_webhook(url).secret_token(secret).await.context("setWebhook")?;
    Ok(me.username.clone().unwrap_or_default())
}

/// A Bot API client for `token`, talking to `api_url` (Telegram's own, a local Bot API server,
/// or the fake one in tests).
pub fn bot(token: &str, api_url: &str) -> Result<Bot> {
    let url = url::Url::parse(api_url).with_context(|| format!("telegram.api_url `{api_url}` is not a URL"))?;
    let client = teloxide::net::default_reqwest_settings()
        .timeout(std::time::Duration::from_secs(40))
        .build()
        .context("building the HTTP client")?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}
