//! The Matrix adapter (matrix-sdk 0.18): logs in once and keeps the session and the crypto
//! store under `data_dir/matrix`, syncs (committing the sync token only after the events it
//! covers), accepts invites from allowed servers, converts events to `core::Inbound`, and
//! delivers outbox rows as `m.notice` messages. Behaviour lives in the core.

pub mod convert;
pub mod deliver;
pub mod format;
pub mod sync;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::store::{StateStoreDataKey, StateStoreDataValue};
use matrix_sdk::{Client, SessionMeta, SessionTokens};

pub use deliver::MatrixDeliverer;
pub use sync::run as sync;

use crate::config;
use crate::store::{Store, platform_state};

/// Where the sync token is kept in `platform_state`.
pub const SYNC_TOKEN_KEY: &str = "matrix.sync_token";

fn session_file(dir: &Path) -> PathBuf {
    dir.join("session.json")
}

/// A client for the configured account: the saved session if there is one, else a login with
/// the password (saved for next time), else the access token. The SDK's own sync token is set
/// to the one committed with beatbot's database, so a restart resumes after the last event
/// that was handled, not after the last one received.
pub async fn connect(cfg: &config::Matrix, data_dir: &Path, store: &Store) -> Result<Client> {
    let dir = data_dir.join("matrix");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let client = Client::builder()
        .homeserver_url(&cfg.homeserver)
        .sqlite_store(dir.join("sdk"), None)
        .respect_login_well_known(false)
        .request_config(RequestConfig::new().timeout(Duration::from_secs(60)))
        .build()
        .await
        .context("building the Matrix client")?;
    if let Some(token) = committed_sync_token(store).await? {
        client
            .state_store()
            .set_kv_data(StateStoreDataKey::SyncToken, StateStoreDataValue::SyncToken(token))
            .await
            .context("restoring the committed sync token")?;
    }
    let saved = session_file(&dir);
    if saved.exists() {
        let session: MatrixSession =
            serde_json::from_slice(&std::fs::read(&saved)?).with_context(|| format!("reading {}", saved.display()))?;
        client
            .restore_session(session)
            .await
            .context("restoring the Matrix session")?;
    } else {
        match &cfg.login {
            config::MatrixLogin::Password(password) => {
                client
                    .matrix_auth()
                    .login_username(&cfg.user, password)
                    .initial_device_display_name("beatbot")
                    .await
                    .context("logging in to Matrix (matrix.user / matrix.password)")?;
                let session = client.matrix_auth().session().context("no session after login")?;
                write_private(&saved, &serde_json::to_vec(&session)?)?;
            }
            config::MatrixLogin::AccessToken(token) => {
                let (user_id, device_id) = whoami(&client, token).await?;
                client
                    .restore_session(MatrixSession {
                        meta: SessionMeta { user_id, device_id },
                        tokens: SessionTokens {
                            access_token: token.clone(),
                            refresh_token: None,
                        },
                    })
                    .await
                    .context("using matrix.access_token")?;
            }
        }
    }
    Ok(client)
}

/// The sync token committed with the last handled events, if any sync has been handled.
pub async fn committed_sync_token(store: &Store) -> Result<Option<String>> {
    let mut tx = store.begin().await?;
    let token = platform_state::get(&mut tx, SYNC_TOKEN_KEY).await?;
    tx.commit().await?;
    Ok(token)
}

/// The session holds the access token: readable by beatbot's user only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

async fn whoami(
    client: &Client,
    token: &str,
) -> Result<(matrix_sdk::ruma::OwnedUserId, matrix_sdk::ruma::OwnedDeviceId)> {
    #[derive(serde::Deserialize)]
    struct WhoAmI {
        user_id: matrix_sdk::ruma::OwnedUserId,
        device_id: Option<matrix_sdk::ruma::OwnedDeviceId>,
    }
    let url = client.homeserver().join("_matrix/client/v3/account/whoami")?;
    let resp = client.http_client().get(url).bearer_auth(token).send().await?;
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        bail!("matrix.access_token was refused ({status})");
    }
    let who: WhoAmI = serde_json::from_str(&body).context("reading whoami")?;
    Ok((
        who.user_id,
        who.device_id.context("matrix.access_token belongs to no device")?,
    ))
}

/// Whether Synapse lets the bot send without its default `rc_message` limit (0.2/s). `None`
/// when it cannot be told (the admin API needs a server admin's token).
pub async fn rate_limit_exempt(client: &Client) -> Option<bool> {
    let user = client.user_id()?.to_owned();
    let url = client
        .homeserver()
        .join(&format!("_synapse/admin/v1/users/{user}/override_ratelimit"))
        .ok()?;
    let token = client.access_token()?;
    let resp = client.http_client().get(url).bearer_auth(token).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.ok()?).ok()?;
    Some(body["messages_per_second"].as_i64() == Some(0) && body["burst_count"].as_i64() == Some(0))
}

/// The command a homeserver admin runs to exempt the bot.
pub fn exemption_command(client: &Client) -> String {
    let user = client.user_id().map(|u| u.to_string()).unwrap_or_default();
    let base = client.homeserver().to_string();
    format!(
        "curl -X POST -H \"Authorization: Bearer $ADMIN_TOKEN\" -d '{{\"messages_per_second\": 0, \"burst_count\": 0}}' \
         {}/_synapse/admin/v1/users/{user}/override_ratelimit",
        base.trim_end_matches('/')
    )
}
