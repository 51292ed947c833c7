//! Settings: one TOML file (`--config`, default `beatbot.toml` when present) overridden by
//! `BEATBOT_…` environment variables (`BEATBOT_SCRIPTS_DIR`, `BEATBOT_DATABASE__URL`, lists as
//! `["a", "b"]`), read with figment into [`Settings`] (the file's keys, every one documented
//! with its default in `deploy/beatbot.toml`), then parsed once into the typed [`Config`] the
//! rest of the bot uses: an unset platform is `None`, the Telegram mode an enum carrying what
//! webhook mode needs, the web address a `SocketAddr`. A bad value stops start-up with a
//! message naming its key. Secrets (tokens, passwords) are never printed: `Debug` shows `***`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The configuration, parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where bot-scripts live.
    pub scripts_dir: PathBuf,
    /// Where beatbot keeps its files (the SQLite database by default, the Matrix session).
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…`.
    pub database_url: String,
    /// Telegram, when a token is set.
    pub telegram: Option<Telegram>,
    /// Matrix, when a homeserver is set.
    pub matrix: Option<Matrix>,
    /// Where the web server listens (health, metrics, and the webhook in webhook mode).
    pub web_bind: SocketAddr,
    /// The address the web server is reached at from outside (for the links of the CAP feed);
    /// `None`: the address each request came to.
    pub public_url: Option<url::Url>,
    /// Official warnings polled from CAP feeds.
    pub feeds: Vec<crate::feeds::Feed>,
}

#[derive(Clone)]
pub struct Telegram {
    pub token: String,
    pub api_url: url::Url,
    pub mode: TelegramMode,
    /// How long one `getUpdates` long poll waits.
    pub poll_timeout: Duration,
    /// How long one Bot API request may take before it is retried.
    pub request_timeout: Duration,
    /// Telegram's sending limits are divided by this (1 for Telegram itself; test servers that
    /// enforce faster limits use more).
    pub limits_speedup: f64,
    /// Urgent alerts sent with `allow_paid_broadcast` (up to 1,000 a second, paid in Stars).
    pub paid_broadcast: bool,
}

/// How updates reach the bot.
#[derive(Clone, PartialEq, Eq)]
pub enum TelegramMode {
    /// `getUpdates` long polling.
    Polling,
    /// Telegram posts to `url`, sending `secret` back in every request.
    Webhook { url: url::Url, secret: String },
}

#[derive(Clone)]
pub struct Matrix {
    pub homeserver: String,
    pub user: String,
    pub login: MatrixLogin,
    /// Servers whose invites are accepted (empty: the bot's own).
    pub allowed_servers: Vec<String>,
    /// How long one `/sync` long poll waits.
    pub sync_timeout: Duration,
}

#[derive(Clone)]
pub enum MatrixLogin {
    Password(String),
    AccessToken(String),
}

impl Telegram {
    /// Telegram by long polling at `api_url`, with its real limits and timeouts.
    pub fn polling(token: &str, api_url: &str) -> Result<Telegram> {
        let settings = TelegramSettings {
            token: token.to_owned(),
            api_url: api_url.to_owned(),
            ..TelegramSettings::default()
        };
        settings
            .parse()?
            .ok_or_else(|| anyhow::anyhow!("bad configuration `telegram.token`: empty"))
    }
}

impl Default for Config {
    fn default() -> Self {
        Settings::default().parse().expect("the defaults are valid")
    }
}

/// The configuration file's keys as written (see `deploy/beatbot.toml`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Threads of the async runtime (1: everything on one thread, the default).
    pub threads: usize,
    pub scripts_dir: PathBuf,
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub telegram: TelegramSettings,
    pub matrix: MatrixSettings,
    pub web: WebSettings,
    pub feeds: Vec<crate::feeds::FeedSettings>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramModeName {
    Polling,
    Webhook,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramSettings {
    pub token: String,
    pub api_url: String,
    pub mode: TelegramModeName,
    pub webhook_url: String,
    pub webhook_secret: String,
    pub poll_timeout_secs: u32,
    pub request_timeout_secs: u32,
    pub limits_speedup: f64,
    pub paid_broadcast: bool,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixSettings {
    pub homeserver: String,
    pub user: String,
    pub password: String,
    pub access_token: String,
    pub allowed_servers: Vec<String>,
    pub sync_timeout_secs: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    pub bind: String,
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threads: 1,
            scripts_dir: PathBuf::from("bot-scripts"),
            data_dir: PathBuf::from("data"),
            database: DatabaseSettings::default(),
            telegram: TelegramSettings::default(),
            matrix: MatrixSettings::default(),
            web: WebSettings::default(),
            feeds: Vec::new(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://data/beatbot.db".into(),
        }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
        }
    }
}

impl Default for TelegramSettings {
    fn default() -> Self {
        TelegramSettings {
            token: String::new(),
            api_url: "https://api.telegram.org".into(),
            mode: TelegramModeName::Polling,
            webhook_url: String::new(),
            webhook_secret: String::new(),
            poll_timeout_secs: 25,
            request_timeout_secs: 40,
            limits_speedup: 1.0,
            paid_broadcast: false,
        }
    }
}

impl Default for MatrixSettings {
    fn default() -> Self {
        MatrixSettings {
            homeserver: String::new(),
            user: String::new(),
            password: String::new(),
            access_token: String::new(),
            allowed_servers: Vec::new(),
            sync_timeout_secs: 25,
        }
    }
}

fn hide(s: &str) -> &'static str {
    if s.is_empty() { "" } else { "***" }
}

impl fmt::Debug for TelegramSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramSettings")
            .field("token", &hide(&self.token))
            .field("api_url", &self.api_url)
            .field("mode", &self.mode)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &hide(&self.webhook_secret))
            .field("poll_timeout_secs", &self.poll_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("limits_speedup", &self.limits_speedup)
            .field("paid_broadcast", &self.paid_broadcast)
            .finish()
    }
}

impl fmt::Debug for MatrixSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatrixSettings")
            .field("homeserver", &self.homeserver)
            .field("user", &self.user)
            .field("password", &hide(&self.password))
            .field("access_token", &hide(&self.access_token))
            .field("allowed_servers", &self.allowed_servers)
            .field("sync_timeout_secs", &self.sync_timeout_secs)
            .finish()
    }
}

impl fmt::Debug for Telegram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telegram")
            .field("token", &"***")
            .field("api_url", &self.api_url.as_str())
            .field("mode", &self.mode.name())
            .field("poll_timeout", &self.poll_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("limits_speedup", &self.limits_speedup)
            .field("paid_broadcast", &self.paid_broadcast)
            .finish()
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matrix")
            .field("homeserver", &self.homeserver)
            .field("user", &self.user)
            .field("login", &"***")
            .field("allowed_servers", &self.allowed_servers)
            .field("sync_timeout", &self.sync_timeout)
            .finish()
    }
}

impl TelegramMode {
    pub fn name(&self) -> &'static str {
        match self {
            TelegramMode::Polling => "polling",
            TelegramMode::Webhook { .. } => "webhook",
        }
    }
}

impl Settings {
    /// Reads the file (an explicit path must exist; the default `beatbot.toml` may be absent),
    /// then the environment.
    pub fn load(path: Option<&Path>) -> Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match path {
            Some(p) if !p.exists() => bail!("config file {} does not exist", p.display()),
            Some(p) => figment = figment.merge(Toml::file(p)),
            None if Path::new("beatbot.toml").exists() => figment = figment.merge(Toml::file("beatbot.toml")),
            None => {}
        }
        // BEATBOT_LOG (the log filter) and the test suite's BEATBOT_TRANSCRIPT and
        // BEATBOT_TEST_POSTGRES* share the prefix but are not configuration keys.
        figment = figment.merge(
            Env::prefixed("BEATBOT_")
                .ignore(&["log", "transcript", "test_postgres_url", "test_postgres"])
                .split("__"),
        );
        figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let shown = if key.is_empty() {
                String::new()
            } else {
                format!("`{key}`: ")
            };
            anyhow::anyhow!("bad configuration {shown}{}", e.kind)
        })
    }

    /// The typed configuration, refusing values that cannot work (the message names the key).
    pub fn parse(self) -> Result<Config> {
        let url = self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("bad configuration `database.url`: must start with sqlite: or postgres://, got `{url}`");
        }
        let Ok(web_bind) = self.web.bind.parse::<SocketAddr>() else {
            bail!(
                "bad configuration `web.bind`: must be an address like 127.0.0.1:8080, got `{}`",
                self.web.bind
            );
        };
        let public_url = match self.web.public_url.as_str() {
            "" => None,
            u => match url::Url::parse(u) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
                _ => bail!("bad configuration `web.public_url`: must be an http(s) URL, got `{u}`"),
            },
        };
        let mut names = std::collections::HashSet::new();
        let mut feeds = Vec::new();
        for (i, f) in self.feeds.into_iter().enumerate() {
            let feed = f.parse(i)?;
            if !names.insert(feed.name.clone()) {
                bail!("bad configuration `feeds[{i}].name`: `{}` names two feeds", feed.name);
            }
            feeds.push(feed);
        }
        Ok(Config {
            scripts_dir: self.scripts_dir,
            data_dir: self.data_dir,
            database_url: url,
            telegram: self.telegram.parse()?,
            matrix: self.matrix.parse()?,
            web_bind,
            public_url,
            feeds,
        })
    }
}

impl TelegramSettings {
    fn parse(self) -> Result<Option<Telegram>> {
        let Ok(api_url) = url::Url::parse(&self.api_url) else {
            bail!(
                "bad configuration `telegram.api_url`: must be an http(s) URL, got `{}`",
                self.api_url
            );
        };
        if !matches!(api_url.scheme(), "http" | "https") {
            bail!(
                "bad configuration `telegram.api_url`: must be an http(s) URL, got `{}`",
                self.api_url
            );
        }
        let mode = match self.mode {
            TelegramModeName::Polling => TelegramMode::Polling,
            TelegramModeName::Webhook => {
                let Ok(url) = url::Url::parse(&self.webhook_url) else {
                    bail!("bad configuration `telegram.webhook_url`: required when telegram.mode = \"webhook\"");
                };
                let secret = self.webhook_secret;
                if secret.is_empty()
                    || secret.len() > 256
                    || !secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    bail!(
                        "bad configuration `telegram.webhook_secret`: webhook mode needs 1-256 characters of A-Z, a-z, 0-9, _ and -"
                    );
                }
                TelegramMode::Webhook { url, secret }
            }
        };
        if !(self.limits_speedup.is_finite() && self.limits_speedup >= 1.0) {
            bail!("bad configuration `telegram.limits_speedup`: must be 1 or more");
        }
        if self.request_timeout_secs <= self.poll_timeout_secs {
            bail!("bad configuration `telegram.request_timeout_secs`: must be longer than poll_timeout_secs");
        }
        if self.token.is_empty() {
            return Ok(None);
        }
        Ok(Some(Telegram {
            token: self.token,
            api_url,
            mode,
            poll_timeout: Duration::from_secs(self.poll_timeout_secs.into()),
            request_timeout: Duration::from_secs(self.request_timeout_secs.into()),
            limits_speedup: self.limits_speedup,
            paid_broadcast: self.paid_broadcast,
        }))
    }
}

impl MatrixSettings {
    fn parse(self) -> Result<Option<Matrix>> {
        if self.homeserver.is_empty() {
            return Ok(None);
        }
        let login = if !self.password.is_empty() {
            MatrixLogin::Password(self.password)
        } else if !self.access_token.is_empty() {
            MatrixLogin::AccessToken(self.access_token)
        } else {
            bail!("bad configuration `matrix.password`: set matrix.password or matrix.access_token");
        };
        Ok(Some(Matrix {
            homeserver: self.homeserver,
            user: self.user,
            login,
            allowed_servers: self.allowed_servers,
            sync_timeout: Duration::from_secs(self.sync_timeout_secs.into()),
        }))
    }
}

impl Config {
    /// [`Settings::load`], then [`Settings::parse`].
    pub fn load(path: Option<&Path>) -> Result<Config> {
        Settings::load(path)?.parse()
    }

    /// The defaults with bot-scripts from `scripts_dir` and everything else — the SQLite
    /// database `beatbot.db` included — under `data_dir` (tests and benchmarks).
    pub fn local(scripts_dir: impl Into<PathBuf>, data_dir: &Path) -> Config {
        Config {
            scripts_dir: scripts_dir.into(),
            data_dir: data_dir.to_owned(),
            database_url: format!("sqlite://{}", data_dir.join("beatbot.db").display()),
            ..Config::default()
        }
    }

    /// The platforms served, for the start-up line: `Telegram (polling) and Matrix (https://…)`.
    pub fn platforms_named(&self) -> String {
        let mut names = Vec::new();
        if let Some(t) = &self.telegram {
            names.push(format!("Telegram ({})", t.mode.name()));
        }
        if let Some(m) = &self.matrix {
            names.push(format!("Matrix ({})", m.homeserver));
        }
        names.join(" and ")
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; anything else unchanged.
pub fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail))
            if head.contains("://") && head.contains(':') && head.rfind(':') > head.find("://").map(|i| i + 2) =>
        {
            let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
            let user = head[scheme_end..].split(':').next().unwrap_or("");
            format!("{}{user}:***@{tail}", &head[..scheme_end])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file_and_pass_the_check() {
        let c = Config::default();
        assert_eq!(c.database_url, "sqlite://data/beatbot.db");
        assert!(c.telegram.is_none() && c.matrix.is_none());
        assert_eq!(c.web_bind, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut s = Settings::default();
        s.web.bind = "nowhere".into();
        assert!(s.parse().unwrap_err().to_string().contains("web.bind"));
        let mut s = Settings::default();
        s.telegram.token = "1:x".into();
        s.telegram.mode = TelegramModeName::Webhook;
        assert!(s.parse().unwrap_err().to_string().contains("telegram.webhook_url"));
        let mut s = Settings::default();
        s.matrix.homeserver = "http://localhost:8008".into();
        assert!(s.parse().unwrap_err().to_string().contains("matrix.password"));
    }

    #[test]
    fn webhook_mode_carries_its_url_and_secret() {
        let mut s = Settings::default();
        s.telegram.token = "1:x".into();
        s.telegram.mode = TelegramModeName::Webhook;
        s.telegram.webhook_url = "https://bot.example.org/telegram/webhook".into();
        s.telegram.webhook_secret = "s3cret".into();
        let t = s.parse().unwrap().telegram.unwrap();
        assert!(matches!(t.mode, TelegramMode::Webhook { ref secret, .. } if secret == "s3cret"));
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut s = Settings::default();
        s.telegram.token = "123:SECRET".into();
        s.matrix.homeserver = "http://localhost:8008".into();
        s.matrix.password = "PASSWORD".into();
        assert!(!format!("{s:?}").contains("SECRET") && !format!("{s:?}").contains("PASSWORD"));
        let c = s.parse().unwrap();
        assert!(!format!("{c:?}").contains("SECRET") && !format!("{c:?}").contains("PASSWORD"));
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(redact("postgres://bot:pw@db/beatbot"), "postgres://bot:***@db/beatbot");
        assert_eq!(redact("sqlite://data/beatbot.db"), "sqlite://data/beatbot.db");
    }
}
