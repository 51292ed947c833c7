//! Settings: one TOML file (`--config`, default `beatbot.toml` when present) overridden by
//! `BEATBOT_…` environment variables (`BEATBOT_SCRIPTS_DIR`, `BEATBOT_DATABASE__URL`, lists as
//! `["a", "b"]`), read with figment. Every key is documented with its default in
//! `deploy/beatbot.toml`; [`Config::check`] stops start-up with a message naming a bad key.
//! Secrets (tokens, passwords) are never printed: `Debug` shows them as `***`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where bot-scripts live. Default `bot-scripts`.
    pub scripts_dir: PathBuf,
    /// Where beatbot keeps its files (the SQLite database by default, sessions later). Default `data`.
    pub data_dir: PathBuf,
    pub database: Database,
    pub telegram: Telegram,
    pub matrix: Matrix,
    pub web: Web,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// `sqlite://data/beatbot.db` (default) or `postgres://user@host/db`.
    pub url: String,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Telegram {
    /// The bot token from BotFather; empty disables Telegram.
    pub token: String,
    /// Bot API server. Default `https://api.telegram.org`.
    pub api_url: String,
    /// `polling` (default) or `webhook`.
    pub mode: String,
    pub webhook_url: String,
    pub webhook_secret: String,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matrix {
    /// Homeserver URL; empty disables Matrix.
    pub homeserver: String,
    pub user: String,
    pub password: String,
    pub access_token: String,
    /// Servers whose invites are accepted. Default: the bot's own.
    pub allowed_servers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Web {
    /// Address of the web server (webhooks, health). Default `127.0.0.1:8080`.
    pub bind: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scripts_dir: PathBuf::from("bot-scripts"),
            data_dir: PathBuf::from("data"),
            database: Database::default(),
            telegram: Telegram::default(),
            matrix: Matrix::default(),
            web: Web::default(),
        }
    }
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: "sqlite://data/beatbot.db".into(),
        }
    }
}

impl Default for Telegram {
    fn default() -> Self {
        Telegram {
            token: String::new(),
            api_url: "https://api.telegram.org".into(),
            mode: "polling".into(),
            webhook_url: String::new(),
            webhook_secret: String::new(),
        }
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            bind: "127.0.0.1:8080".into(),
        }
    }
}

fn hide(s: &str) -> &'static str {
    if s.is_empty() { "" } else { "***" }
}

impl fmt::Debug for Telegram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telegram")
            .field("token", &hide(&self.token))
            .field("api_url", &self.api_url)
            .field("mode", &self.mode)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &hide(&self.webhook_secret))
            .finish()
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matrix")
            .field("homeserver", &self.homeserver)
            .field("user", &self.user)
            .field("password", &hide(&self.password))
            .field("access_token", &hide(&self.access_token))
            .field("allowed_servers", &self.allowed_servers)
            .finish()
    }
}

impl Config {
    /// Reads the file (an explicit path must exist; the default `beatbot.toml` may be absent),
    /// then the environment, then checks every value.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match path {
            Some(p) if !p.exists() => bail!("config file {} does not exist", p.display()),
            Some(p) => figment = figment.merge(Toml::file(p)),
            None if Path::new("beatbot.toml").exists() => figment = figment.merge(Toml::file("beatbot.toml")),
            None => {}
        }
        // BEATBOT_LOG (the log filter) and the test suite's BEATBOT_TRANSCRIPT and
        // BEATBOT_TEST_POSTGRES_URL share the prefix but are not configuration keys.
        figment = figment.merge(
            Env::prefixed("BEATBOT_")
                .ignore(&["log", "transcript", "test_postgres_url"])
                .split("__"),
        );
        let config: Config = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let shown = if key.is_empty() {
                String::new()
            } else {
                format!("`{key}`: ")
            };
            anyhow::anyhow!("bad configuration {shown}{}", e.kind)
        })?;
        config.check()?;
        Ok(config)
    }

    /// Refuses values that cannot work, naming the key.
    pub fn check(&self) -> Result<()> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("bad configuration `database.url`: must start with sqlite: or postgres://, got `{url}`");
        }
        if !matches!(self.telegram.mode.as_str(), "polling" | "webhook") {
            bail!(
                "bad configuration `telegram.mode`: must be `polling` or `webhook`, got `{}`",
                self.telegram.mode
            );
        }
        if self.telegram.mode == "webhook" && self.telegram.webhook_url.is_empty() {
            bail!("bad configuration `telegram.webhook_url`: required when telegram.mode = \"webhook\"");
        }
        let secret = &self.telegram.webhook_secret;
        if self.telegram.mode == "webhook"
            && (secret.is_empty()
                || secret.len() > 256
                || !secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        {
            bail!(
                "bad configuration `telegram.webhook_secret`: webhook mode needs 1-256 characters of A-Z, a-z, 0-9, _ and -"
            );
        }
        if !self.telegram.api_url.starts_with("http://") && !self.telegram.api_url.starts_with("https://") {
            bail!(
                "bad configuration `telegram.api_url`: must be an http(s) URL, got `{}`",
                self.telegram.api_url
            );
        }
        if self.web.bind.parse::<SocketAddr>().is_err() {
            bail!(
                "bad configuration `web.bind`: must be an address like 127.0.0.1:8080, got `{}`",
                self.web.bind
            );
        }
        if !self.matrix.homeserver.is_empty() && self.matrix.password.is_empty() && self.matrix.access_token.is_empty()
        {
            bail!("bad configuration `matrix.password`: set matrix.password or matrix.access_token");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file_and_pass_the_check() {
        let c = Config::default();
        assert_eq!(c.database.url, "sqlite://data/beatbot.db");
        c.check().unwrap();
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut c = Config::default();
        c.telegram.mode = "carrier-pigeon".into();
        assert!(c.check().unwrap_err().to_string().contains("telegram.mode"));
        let mut c = Config::default();
        c.web.bind = "nowhere".into();
        assert!(c.check().unwrap_err().to_string().contains("web.bind"));
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut c = Config::default();
        c.telegram.token = "123:SECRET".into();
        assert!(!format!("{c:?}").contains("SECRET"));
    }
}
