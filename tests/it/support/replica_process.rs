//! `beatbot serve` as separate processes (the real binary) for tests and benchmarks of
//! replicas: each with its own configuration file and log, Telegram in webhook mode against
//! the fake Bot API, updates posted to a replica's webhook as Telegram (or a load balancer in
//! front of the replicas) would.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

pub fn start_replica(dir: &Path, name: &str, database_url: &str, fake: &FakeTelegram, scale: f64) -> Replica {
    let port = free_port();
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
            scripts = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("bot-scripts")
                .display()
                .to_string(),
            data = dir.join(name).display().to_string(),
            token = fake.token,
            api = fake.url(),
        ),
    )
    .expect("write the replica's configuration");
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file");
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
