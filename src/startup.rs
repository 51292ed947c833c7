//! The composition root: the one place the bot is put together from a [`Config`]. `beatbot
//! serve`, every integration test and every benchmark start the bot through [`Bot`], so what
//! they run is what production runs.
//!
//! [`Bot::assemble`] loads bot-scripts, opens the store and builds the [`App`] (nothing runs
//! yet; tests set up their world on [`Bot::app`]); [`Bot::start`] starts, for each configured
//! platform, its update source (Telegram long polling or the webhook on the web server, Matrix
//! sync) and its delivery worker, plus the scheduler. [`Running`] hands tests what they need —
//! the app, the web address, the Matrix client, "wait until the outbox is drained" — and
//! [`Running::stop`] stops everything cleanly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use crate::app::App;
use crate::clock::SystemClock;
use crate::config::{self, Config, TelegramMode};
use crate::domain::Platform;
use crate::platforms::{matrix, telegram};
use crate::scripts::{self, Scripts};
use crate::store::{Backend, Store, outbox, replicas};
use crate::workers::{delivery, replica, scheduler};

type Task = tokio::task::JoinHandle<Result<()>>;

/// The bot, assembled but not yet running.
pub struct Bot {
    config: Config,
    app: App,
    scheduler: bool,
}

/// The bot, running: its update sources (whose end stops it) and workers.
pub struct Running {
    app: App,
    stop: watch::Sender<bool>,
    sources: Vec<Task>,
    workers: Vec<Task>,
    web_addr: Option<SocketAddr>,
    matrix: Option<matrix_sdk::Client>,
}

/// Loads bot-scripts from `dir`, printing each problem to stderr.
pub fn load_scripts(dir: &std::path::Path) -> Result<Scripts> {
    scripts::load(dir).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        anyhow::anyhow!(
            "{} problem(s) in bot-scripts at {}: fix them (see `beatbot scripts check`)",
            errors.len(),
            dir.display()
        )
    })
}

/// The app over the configured scripts and database (the system clock): what every command
/// that reads or changes the station's data works on.
pub async fn app(config: &Config) -> Result<App> {
    let scripts = load_scripts(&config.scripts_dir)?;
    let store = Store::open(&config.database_url).await?;
    Ok(App::new(store, scripts, Arc::new(SystemClock)))
}

impl Bot {
    /// Scripts, store and app from `config`; nothing runs yet.
    pub async fn assemble(config: &Config) -> Result<Bot> {
        Ok(Bot::with_app(config, app(config).await?))
    }

    /// The bot over an app built elsewhere (tests share one parsed set of scripts and drive
    /// their own clock); platforms, web and workers still come from `config`.
    pub fn with_app(config: &Config, app: App) -> Bot {
        Bot {
            config: config.clone(),
            app,
            scheduler: true,
        }
    }

    /// [`Bot::assemble`] then [`Bot::start`].
    pub async fn build(config: &Config) -> Result<Running> {
        Bot::assemble(config).await?.start().await
    }

    /// Without the minute-by-minute scheduler: for tests and transcripts that advance their
    /// clock and run the due jobs themselves.
    pub fn without_scheduler(mut self) -> Bot {
        self.scheduler = false;
        self
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Starts every configured platform and the scheduler.
    pub async fn start(self) -> Result<Running> {
        let Bot { config, app, scheduler } = self;
        let (stop, stopped) = watch::channel(false);
        let mut running = Running {
            app: app.clone(),
            stop,
            sources: Vec::new(),
            workers: Vec::new(),
            web_addr: None,
            matrix: None,
        };
        if app.store.backend() == Backend::Postgres {
            // Known to the other replicas (and given its share of the chats) before delivering.
            let id = replica::id();
            replicas::heartbeat(&app.store, &id, env!("CARGO_PKG_VERSION")).await?;
            running
                .workers
                .push(tokio::spawn(replica::heartbeat(app.store.clone(), id, stopped.clone())));
        } else {
            let released = replicas::release_claims_of_a_dead_run(&app.store).await?;
            if released > 0 {
                tracing::warn!(
                    messages = released,
                    "the last run stopped while sending; its messages are due again"
                );
            }
        }
        let mut webhook = None;
        if let Some(tg) = &config.telegram {
            webhook = running.start_telegram(tg, &stopped).await?;
        }
        running
            .start_web(config.web_bind, config.public_url.clone(), webhook, &stopped)
            .await?;
        if let Some(mx) = &config.matrix {
            running.start_matrix(mx, &config.data_dir, &stopped).await?;
        }
        if scheduler {
            running.workers.push(tokio::spawn(crate::workers::feeds::run(
                app.clone(),
                config.feeds.clone(),
                stopped.clone(),
            )));
            running.workers.push(tokio::spawn(scheduler::run(app, stopped)));
        }
        Ok(running)
    }
}

impl Running {
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Where the web server listens (webhook mode), with the port it was given.
    pub fn web_addr(&self) -> Option<SocketAddr> {
        self.web_addr
    }

    /// The Matrix client, when Matrix is served.
    pub fn matrix_client(&self) -> Option<&matrix_sdk::Client> {
        self.matrix.as_ref()
    }

    /// Waits until nothing is left to deliver on `platform`, up to `timeout`; whether it was.
    pub async fn drained(&self, platform: Platform, timeout: Duration) -> Result<bool> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut tx = self.app.store.begin().await?;
            let pending = outbox::pending_count(&mut tx, platform).await?;
            tx.commit().await?;
            if pending == 0 {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs until an update source ends (its error, if it failed) or `signal` completes.
    pub async fn until(&mut self, signal: impl std::future::Future<Output = ()>) -> Result<()> {
        if self.sources.is_empty() {
            signal.await;
            return Ok(());
        }
        let sources = std::mem::take(&mut self.sources);
        tokio::select! {
            _ = signal => Ok(()),
            (ended, _, _) = futures::future::select_all(sources) => match ended {
                Ok(result) => result,
                Err(e) => Err(anyhow::anyhow!("task failed: {e}")),
            },
        }
    }

    /// Stops the sources and workers and waits for them. The store stays open for the app's
    /// other clones (a test restarting the bot on the same database); `serve` closes it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.sources.into_iter().chain(self.workers) {
            let _ = task.await;
        }
    }

    /// Serves the web routes (health, metrics, and Telegram's webhook when it is on) on `bind`.
    /// Without the webhook, an address already taken costs only the metrics: a warning.
    async fn start_web(
        &mut self,
        bind: SocketAddr,
        public_url: Option<url::Url>,
        webhook: Option<crate::web::TelegramWebhook>,
        stopped: &watch::Receiver<bool>,
    ) -> Result<()> {
        let required = webhook.is_some();
        let router = crate::web::router(crate::web::WebState {
            app: self.app.clone(),
            telegram: webhook,
            public_url,
        });
        let listener = match tokio::net::TcpListener::bind(bind).await {
            Ok(listener) => listener,
            Err(e) if !required => {
                tracing::warn!(error = %e, %bind, "web.bind is taken: /metrics and /healthz are not served");
                return Ok(());
            }
            Err(e) => return Err(e).with_context(|| format!("binding web.bind {bind}")),
        };
        self.web_addr = Some(listener.local_addr()?);
        let mut stopping = stopped.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopping.changed().await;
                })
                .await
                .context("web server")
        });
        if required {
            self.sources.push(server);
        } else {
            self.workers.push(tokio::spawn(async move {
                if let Ok(Err(e)) = server.await {
                    tracing::warn!(error = %format!("{e:#}"), "the web server stopped");
                }
                Ok(())
            }));
        }
        Ok(())
    }

    /// Starts Telegram's update source and delivery worker; the webhook's routes, when updates
    /// come by webhook.
    async fn start_telegram(
        &mut self,
        cfg: &config::Telegram,
        stopped: &watch::Receiver<bool>,
    ) -> Result<Option<crate::web::TelegramWebhook>> {
        let bot = telegram::bot_with_timeout(&cfg.token, cfg.api_url.as_str(), cfg.request_timeout)?;
        // The menus are a convenience the bot works without: set in the background, so the
        // dozen requests they take do not hold up start-up.
        let (menu_bot, menu_app) = (bot.clone(), self.app.clone());
        tokio::spawn(async move {
            if let Err(e) = telegram::set_commands(&menu_bot, &menu_app).await {
                tracing::warn!(error = %format!("{e:#}"), "could not set the Telegram command menus");
            }
        });
        let username = {
            use teloxide::prelude::Requester;
            bot.get_me()
                .await
                .context("getMe")?
                .username
                .clone()
                .unwrap_or_default()
        };
        // Links into the bot's private chat (`/start` deep links) need its username.
        self.app
            .start_links
            .set(Platform::Telegram, telegram::start_link(&username));
        let mut webhook = None;
        match &cfg.mode {
            TelegramMode::Webhook { url, secret } => {
                telegram::register_webhook(&bot, url, secret).await?;
                webhook = Some(crate::web::TelegramWebhook {
                    bot: bot.clone(),
                    username: username.clone(),
                    secret: secret.as_str().into(),
                });
            }
            TelegramMode::Polling => {
                let wait = cfg.poll_timeout.as_secs().try_into().unwrap_or(u32::MAX);
                self.sources.push(tokio::spawn(telegram::poll(
                    self.app.clone(),
                    bot.clone(),
                    username.clone(),
                    wait,
                    stopped.clone(),
                )));
            }
        }
        let deliverer = telegram::TelegramDeliverer::with_limits(bot, telegram::Limits::scaled(cfg.limits_speedup))
            .with_username(username)
            .with_paid_broadcast(cfg.paid_broadcast)
            .with_shared_budget(&self.app.store, &cfg.token);
        self.workers.push(tokio::spawn(delivery::run(
            self.app.clone(),
            Platform::Telegram,
            deliverer,
            stopped.clone(),
        )));
        Ok(webhook)
    }

    /// Starts Matrix: at once on SQLite; with replicas on PostgreSQL, on the one replica that
    /// holds the `matrix` lease (another takes over when it dies).
    async fn start_matrix(
        &mut self,
        cfg: &config::Matrix,
        data_dir: &std::path::Path,
        stopped: &watch::Receiver<bool>,
    ) -> Result<()> {
        if self.app.store.backend() == Backend::Postgres {
            let (app, cfg, data_dir) = (self.app.clone(), cfg.clone(), data_dir.to_owned());
            self.workers.push(tokio::spawn(replica::under_lease(
                self.app.store.clone(),
                "matrix",
                replica::id(),
                stopped.clone(),
                move |work_stopped| {
                    let (app, cfg, data_dir) = (app.clone(), cfg.clone(), data_dir.clone());
                    async move {
                        let (sync, worker, _) = start_matrix_tasks(&app, &cfg, &data_dir, &work_stopped).await?;
                        Ok(vec![sync, worker])
                    }
                },
            )));
            return Ok(());
        }
        let (sync, worker, client) = start_matrix_tasks(&self.app, cfg, data_dir, stopped).await?;
        self.sources.push(sync);
        self.workers.push(worker);
        self.matrix = Some(client);
        Ok(())
    }
}

/// Connects to the homeserver and starts Matrix's sync and delivery worker until `stopped`.
async fn start_matrix_tasks(
    app: &App,
    cfg: &config::Matrix,
    data_dir: &std::path::Path,
    stopped: &watch::Receiver<bool>,
) -> Result<(Task, Task, matrix_sdk::Client)> {
    let client = matrix::connect(cfg, data_dir, &app.store).await?;
    match matrix::rate_limit_exempt(&client).await {
        Some(true) => {}
        Some(false) => tracing::warn!(
            "the bot's Matrix account is rate-limited (Synapse's default is 0.2 messages/s): alerts to many rooms \
             will be slow. A homeserver admin can exempt it with: {}",
            matrix::exemption_command(&client)
        ),
        None => tracing::warn!(
            "could not tell whether the bot's Matrix account is exempt from rate limits (the check needs a server \
             admin's rights). If it is not, alerts to many rooms will be slow; a homeserver admin can exempt it with: {}",
            matrix::exemption_command(&client)
        ),
    }
    let sync = tokio::spawn(matrix::sync(
        app.clone(),
        client.clone(),
        cfg.allowed_servers.clone(),
        cfg.sync_timeout,
        stopped.clone(),
    ));
    let worker = tokio::spawn(delivery::run(
        app.clone(),
        Platform::Matrix,
        matrix::MatrixDeliverer::new(client.clone(), app.clone()),
        stopped.clone(),
    ));
    Ok((sync, worker, client))
}

/// `beatbot serve`: the configured platforms until Ctrl-C or SIGTERM (or an update source
/// fails); with none configured, the console on stdin/stdout.
pub async fn serve(config: &Config) -> Result<()> {
    if config.telegram.is_none() && config.matrix.is_none() {
        return serve_console(config).await;
    }
    let mut running = Bot::build(config).await?;
    eprintln!(
        "beatbot serve: {} on {}",
        config.platforms_named(),
        config::redact(&config.database_url)
    );
    let ended = running.until(shutdown_signal()).await;
    eprintln!("stopping");
    let store = running.app().store.clone();
    running.stop().await;
    store.close().await;
    ended
}

async fn serve_console(config: &Config) -> Result<()> {
    let scripts = Arc::new(load_scripts(&config.scripts_dir)?);
    let store = Store::open(&config.database_url).await?;
    let faq = crate::core::faq::FaqService::new(&scripts);
    let console = crate::platforms::console::Console::printing();
    let mut bot = crate::replay::Replayer::with_store(store.clone(), scripts, faq, console).await?;
    bot.set_clock(chrono::Utc::now().timestamp_millis());
    scheduler::tick(&bot.app).await?;
    eprintln!(
        "beatbot serve: console on {} — type `NAME@GROUP> TEXT`, `NAME> TEXT` for a private chat, or `press NAME: LABEL`; \
         people and groups come from `beatbot officer add … --console NAME` and `beatbot group link … --console ID`. Ctrl-D stops.",
        config::redact(&config.database_url)
    );
    tokio::select! {
        result = crate::demo::repl(&mut bot) => result?,
        _ = shutdown_signal() => eprintln!("stopping"),
    }
    store.close().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
