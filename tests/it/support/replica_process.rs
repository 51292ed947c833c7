//! `beatbot serve` as separate processes (the real binary) for tests and benchmarks of
//! replicas: each with its own configuration file and log, Telegram in webhook mode against
//! the fake Bot API, updates posted to a replica's webhook as Telegram (or a load balancer in
//! front of the replicas) would.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::fake_telegram::FakeTelegram;

/// The webhook secret every replica is configured with.
pub const SECRET: &str = "replica-Secret_1";

/// A free loopback port (taken for a moment, then given to a replica).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Replica {
    pub child: Child,
    pub web: SocketAddr,
}

/// A test that fails (or forgets) leaves no `beatbot serve` behind.
impl Drop for Replica {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

pub fn start_replica(dir: &Path, name: &str, database_url: &str, fake: &FakeTelegram, scale: f64) -> Replica {
    start_replica_on(dir, name, database_url, fake, scale, free_port())
}

/// [`start_replica`] on a given web port (a process restarted where the balancer expects it).
/// Its log is appended to, so a restarted process's log follows the killed one's.
pub fn start_replica_on(
    dir: &Path,
    name: &str,
    database_url: &str,
    fake: &FakeTelegram,
    scale: f64,
    port: u16,
) -> Replica {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "scripts_dir = {scripts:?}\ndata_dir = {data:?}\n\
             [database]\nurl = {database_url:?}\n\
             [telegram]\ntoken = {token:?}\napi_url = {api:?}\nmode = \"webhook\"\n\
             webhook_url = \"https://lb.example.org/telegram/webhook\"\nwebhook_secret = {SECRET:?}\n\
             limits_speedup = {scale:?}\n\
             [web]\nbind = \"127.0.0.1:{port}\"\n",
            scripts = scripts_without_flood_control(dir).display().to_string(),
            data = dir.join(name).display().to_string(),
            token = fake.token,
            api = fake.url(),
        ),
    )
    .expect("write the replica's configuration");
    spawn(dir, name, &config, port)
}

/// Starts `beatbot serve` with the configuration file `config` (its web server on `port`),
/// appending to `dir/NAME.log`.
pub fn spawn(dir: &Path, name: &str, config: &Path, port: u16) -> Replica {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_beatbot"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start beatbot serve");
    Replica {
        child,
        web: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

/// A copy of the shipped bot-scripts in `dir` with flood control off: these processes serve
/// load at machine speed from a few senders, which flood control (rightly) would ignore.
pub fn scripts_without_flood_control(dir: &Path) -> std::path::PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create a scripts copy");
        for entry in std::fs::read_dir(from).expect("read bot-scripts") {
            let path = entry.expect("dir entry").path();
            let target = to.join(path.file_name().expect("a name"));
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copy a script");
            }
        }
    }
    let copy_dir = dir.join("bot-scripts-unlimited");
    if !copy_dir.exists() {
        copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"), &copy_dir);
        let settings = copy_dir.join("bot.toml");
        let text = std::fs::read_to_string(&settings).expect("bot.toml");
        let text: Vec<String> = text
            .lines()
            .map(|line| match line.split_once('=') {
                Some((key, _)) if key.trim().starts_with("flood_per_") => format!("{} = 0", key.trim()),
                _ => line.to_owned(),
            })
            .collect();
        std::fs::write(&settings, text.join("\n")).expect("write bot.toml");
    }
    copy_dir
}

/// Posts one update to a replica's webhook, as Telegram (through the balancer) would; the
/// status code, or `None` when nothing answered.
pub async fn post(web: SocketAddr, update: &Value) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = update.to_string();
    let mut stream = tokio::net::TcpStream::connect(web).await.ok()?;
    let request = format!(
        "POST /telegram/webhook HTTP/1.1\r\nHost: {web}\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// Delivers an update the way Telegram does: to a replica, and again to the next one until
/// one answers 200 (a replica that died mid-request never confirmed it).
pub async fn deliver(replicas: &[SocketAddr], first: usize, update: &Value) {
    for attempt in 0..40 {
        let web = replicas[(first + attempt) % replicas.len()];
        if post(web, update).await == Some(200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no replica accepted update {update}");
}

pub async fn healthy(web: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(web).await else {
        return false;
    };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.is_ok() && answer.starts_with("HTTP/1.1 200")
}

/// Waits until `check` holds, polling every 100 ms; fails the test after `timeout`.
pub async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Once the officer (`officer`, a Telegram user in their private chat) has the confirmation
/// prompt of an alert: the update pressing its Confirm button, numbered `update_id`.
pub async fn alert_confirmation(fake: &FakeTelegram, officer: i64, username: &str, update_id: i64) -> Value {
    let mut prompt = None;
    wait_for("the alert's confirmation prompt", Duration::from_secs(60), async || {
        prompt = fake
            .sent()
            .into_iter()
            .find(|s| s.chat_id == officer && s.reply_markup.is_some());
        prompt.is_some()
    })
    .await;
    let prompt = prompt.expect("found");
    let confirm = prompt.reply_markup.as_ref().expect("buttons")["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("callback data")
        .to_owned();
    assert!(confirm.starts_with("alert:send:"), "{confirm}");
    let mut press = fake.press_json(officer, prompt.message_id, officer, username, &confirm);
    press["update_id"] = serde_json::json!(update_id);
    press
}
