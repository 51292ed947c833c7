//! A fake Telegram Bot API server for tests and benchmarks: real HTTP (axum on a loopback
//! port), the methods beatbot uses, Telegram's documented limits enforced with `429` and
//! `retry_after`, and injectable faults (5xx, slow answers, dropped connections).
//!
//! Limits (as Telegram documents them, divided by `time_scale` for fast tests): at most one
//! message per second to a private chat, twenty per minute to a group, thirty per second
//! overall; text of at most 4,096 characters and captions of at most 1,024.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub const BOT_ID: i64 = 424242;
pub const BOT_USERNAME: &str = "beatbot_test_bot";

/// A message the bot sent (or edited), as the server recorded it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    pub reply_markup: Option<Value>,
    /// The photo's file id, for `sendPhoto` (for an upload, the id the server gave it).
    pub photo: Option<String>,
    /// The photo was uploaded with this request (multipart), not named by a file id.
    pub uploaded: bool,
    /// Sent with `allow_paid_broadcast`.
    pub paid: bool,
}

/// What the next sending requests (`sendMessage`, `sendPhoto`, `editMessageText`) suffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status (5xx) and Telegram's error body.
    Status(u16),
    /// Close the connection without an answer.
    Drop,
    /// Answer after this delay.
    Slow(Duration),
    /// Answer 200 with a body that is not JSON (a proxy's error page).
    Garbage,
    /// Answer 200 with JSON cut off mid-way.
    BadJson,
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    next_message_id: i64,
    sent: Vec<Sent>,
    callback_answers: Vec<String>,
    commands: Vec<Value>,
    webhook: Option<String>,
    faults: VecDeque<Fault>,
    /// Until when every sending request suffers one of these faults, in turn.
    outage: Option<(Instant, Vec<Fault>, usize)>,
    /// Send times per chat and overall, for the limits.
    per_chat: HashMap<i64, VecDeque<Instant>>,
    global: VecDeque<Instant>,
    /// Paid broadcasts: up to 1,000 a second, outside the 30 a second of the rest.
    paid: VecDeque<Instant>,
    too_many_requests: u64,
    /// Per refusal: the chat, and whether its own limit (not the overall one) was the cause.
    refusals: Vec<(i64, bool)>,
    /// Chats whose members blocked or removed the bot (403).
    forbidden: Vec<i64>,
    /// Users who have written to the bot privately: only they can be written to (Telegram
    /// lets no bot start a private conversation).
    started: Vec<i64>,
    /// Groups upgraded to supergroups: old id → new id.
    migrated: HashMap<i64, i64>,
    /// Photos uploaded to the server: file id → (bytes, width, height).
    uploads: HashMap<String, (Vec<u8>, u32, u32)>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<tokio::sync::Notify>,
    pub addr: SocketAddr,
    pub token: String,
    time_scale: f64,
}

impl FakeTelegram {
    /// The bytes of a photo uploaded to this server, by the file id it gave the photo.
    pub fn uploaded_photo(&self, file_id: &str) -> Option<Vec<u8>> {
        self.lock().uploads.get(file_id).map(|(bytes, _, _)| bytes.clone())
    }

    /// Starts a server on a free loopback port. `time_scale` divides every limit's window
    /// (1.0 is Telegram's own speed).
    pub async fn start(time_scale: f64) -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake telegram");
        let addr = listener.local_addr().expect("local addr");
        let fake = FakeTelegram {
            inner: Arc::new(Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 1,
                ..Inner::default()
            })),
            notify: Arc::new(tokio::sync::Notify::new()),
            addr,
            token: "123456:TEST-TOKEN".into(),
            time_scale,
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(handle).get(handle))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        fake
    }

    /// The base URL to give teloxide (`set_api_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake telegram state")
    }

    /// Queues an update (its `update_id` is assigned here) and returns the id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update["update_id"] = json!(id);
            if let Some(chat) = update["message"]["chat"]["id"].as_i64().filter(|c| *c > 0) {
                inner.started.push(chat);
            }
            inner.updates.push_back(update);
            id
        };
        self.notify.notify_waiters();
        id
    }

    /// A text message from a user in a chat (a group when `chat_id` is negative).
    pub fn text(&self, chat_id: i64, user_id: i64, username: &str, text: &str) -> i64 {
        let message = self.message_json(chat_id, user_id, username, json!({ "text": text }));
        self.push_update(json!({ "message": message }))
    }

    /// A press of an inline button under the bot's message `message_id` in `chat_id`.
    pub fn press(&self, chat_id: i64, message_id: i64, user_id: i64, username: &str, data: &str) -> i64 {
        let update = self.press_json(chat_id, message_id, user_id, username, data);
        self.push_update(update)
    }

    /// The update of a press (without its `update_id`), for a test posting it to a webhook.
    pub fn press_json(&self, chat_id: i64, message_id: i64, user_id: i64, username: &str, data: &str) -> Value {
        let message = json!({
            "message_id": message_id,
            "date": 1_795_000_000,
            "chat": chat_json(chat_id),
            "from": { "id": BOT_ID, "is_bot": true, "first_name": "beatbot", "username": BOT_USERNAME },
            "text": "…",
        });
        json!({ "callback_query": {
            "id": format!("cb{}", self.lock().next_update_id),
            "from": user_json(user_id, username),
            "message": message,
            "chat_instance": "ci",
            "data": data,
        }})
    }

    pub fn message_json(&self, chat_id: i64, user_id: i64, username: &str, content: Value) -> Value {
        let message_id = {
            let mut inner = self.lock();
            inner.next_message_id += 1;
            inner.next_message_id
        };
        let mut message = json!({
            "message_id": message_id,
            "date": 1_795_000_000,
            "chat": chat_json(chat_id),
            "from": user_json(user_id, username),
        });
        if let (Some(m), Some(c)) = (message.as_object_mut(), content.as_object()) {
            for (k, v) in c {
                m.insert(k.clone(), v.clone());
            }
        }
        message
    }

    /// How many messages the bot sent (edits not counted), without copying them.
    pub fn sent_count(&self) -> usize {
        self.lock().sent.iter().filter(|s| s.method == "sendMessage").count()
    }

    /// Everything the bot sent or edited so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    pub fn callback_answers(&self) -> Vec<String> {
        self.lock().callback_answers.clone()
    }

    pub fn commands(&self) -> Vec<Value> {
        self.lock().commands.clone()
    }

    pub fn webhook(&self) -> Option<String> {
        self.lock().webhook.clone()
    }

    /// How many requests were refused with 429.
    /// Each 429 so far: the chat, and whether the chat's own limit was the cause.
    pub fn refusals(&self) -> Vec<(i64, bool)> {
        self.lock().refusals.clone()
    }

    pub fn too_many_requests(&self) -> u64 {
        self.lock().too_many_requests
    }

    /// Updates not yet confirmed by a later `getUpdates` offset.
    pub fn unconfirmed_updates(&self) -> usize {
        self.lock().updates.len()
    }

    /// For `duration` from now, every sending request suffers one of `faults`, in turn.
    pub fn outage(&self, duration: Duration, faults: &[Fault]) {
        self.lock().outage = Some((Instant::now() + duration, faults.to_vec(), 0));
    }

    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// The bot was removed from / blocked in this chat: sends answer 403.
    pub fn forbid(&self, chat_id: i64) {
        self.lock().forbidden.push(chat_id);
    }

    /// The person opened (or unblocked) their private chat with the bot.
    pub fn allow(&self, chat_id: i64) {
        self.lock().forbidden.retain(|c| *c != chat_id);
    }

    /// The user has started the bot before the test (a private chat exists).
    pub fn start_chat(&self, user_id: i64) {
        self.lock().started.push(user_id);
    }

    /// The group became a supergroup: sends to the old id answer 400 with `migrate_to_chat_id`.
    pub fn migrate(&self, old: i64, new: i64) {
        self.lock().migrated.insert(old, new);
    }

    fn window(&self, seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds / self.time_scale)
    }

    /// Checks and records one send (or edit: Telegram counts both) to `chat_id` against the
    /// limits; `Err(retry_after)`. A paid broadcast counts against the 1,000 a second instead
    /// of the 30.
    fn admit(&self, chat_id: i64, paid: bool) -> Result<(), u64> {
        let now = Instant::now();
        let (chat_window, chat_max) = if chat_id < 0 {
            (self.window(60.0), 20)
        } else {
            (self.window(1.0), 1)
        };
        let global_window = self.window(1.0);
        let mut inner = self.lock();
        let expire = |q: &mut VecDeque<Instant>, w: Duration| {
            while q.front().is_some_and(|t| now.duration_since(*t) >= w) {
                q.pop_front();
            }
        };
        expire(&mut inner.global, global_window);
        expire(&mut inner.paid, global_window);
        let chat_queue = inner.per_chat.entry(chat_id).or_default();
        expire(chat_queue, chat_window);
        let chat_full = chat_queue.len() >= chat_max;
        let wait_chat = chat_queue
            .front()
            .map(|t| chat_window.saturating_sub(now.duration_since(*t)));
        let (overall, overall_max) = if paid { (&inner.paid, 1000) } else { (&inner.global, 30) };
        let global_full = overall.len() >= overall_max;
        let wait_global = overall
            .front()
            .map(|t| global_window.saturating_sub(now.duration_since(*t)));
        if chat_full || global_full {
            inner.too_many_requests += 1;
            inner.refusals.push((chat_id, chat_full));
            let wait = if chat_full { wait_chat } else { wait_global }.unwrap_or_default();
            // Telegram's retry_after is whole seconds of its own clock.
            let real = wait.as_secs_f64() * self.time_scale;
            return Err(real.ceil().max(1.0) as u64);
        }
        if paid {
            inner.paid.push_back(now);
        } else {
            inner.global.push_back(now);
        }
        inner.per_chat.entry(chat_id).or_default().push_back(now);
        Ok(())
    }
}

fn chat_json(chat_id: i64) -> Value {
    if chat_id < 0 {
        json!({ "id": chat_id, "type": "supergroup", "title": format!("group {chat_id}") })
    } else {
        json!({ "id": chat_id, "type": "private", "first_name": format!("user {chat_id}") })
    }
}

fn user_json(user_id: i64, username: &str) -> Value {
    json!({ "id": user_id, "is_bot": false, "first_name": username, "username": username, "language_code": "zh-hans" })
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

fn error(status: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({ "ok": false, "error_code": status, "description": description });
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(body),
    )
        .into_response()
}

async fn handle(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if bot != format!("bot{}", fake.token) {
        return error(401, "Unauthorized", None);
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let params: Value = match content_type.split_once("boundary=") {
        Some((_, boundary)) => multipart_fields(&body, boundary.trim_matches('"')),
        None => serde_json::from_slice(&body).unwrap_or(json!({})),
    };
    // Telegram's method names are case-insensitive (teloxide sends `GetMe`).
    let method = canonical(&method);
    // Faults hit the sending methods, where delivery has to cope with them.
    if matches!(
        method.as_str(),
        "sendMessage" | "sendPhoto" | "editMessageText" | "editMessageCaption"
    ) {
        let fault = {
            let mut inner = fake.lock();
            match &mut inner.outage {
                Some((until, faults, next)) if Instant::now() < *until && !faults.is_empty() => {
                    *next += 1;
                    Some(faults[*next % faults.len()])
                }
                _ => inner.faults.pop_front(),
            }
        };
        match fault {
            Some(Fault::Status(code)) => {
                let reason = match code {
                    502 => "Bad Gateway",
                    503 => "Service Unavailable",
                    504 => "Gateway Timeout",
                    _ => "Internal Server Error",
                };
                return error(code, reason, None);
            }
            Some(Fault::Garbage) => {
                return (StatusCode::OK, "<html><body>upstream error</body></html>").into_response();
            }
            Some(Fault::BadJson) => {
                return (StatusCode::OK, r#"{"ok":true,"result":{"message_id":"#).into_response();
            }
            Some(Fault::Drop) => {
                // Never answer: the client times out, as on a dropped connection.
                std::future::pending::<()>().await;
            }
            Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
            None => {}
        }
    }
    match method.as_str() {
        "getMe" => ok(
            json!({ "id": BOT_ID, "is_bot": true, "first_name": "beatbot", "username": BOT_USERNAME,
                              "can_join_groups": true, "can_read_all_group_messages": true, "supports_inline_queries": false, "has_main_web_app": false }),
        ),
        "getUpdates" => get_updates(&fake, &params).await,
        "deleteWebhook" => {
            fake.lock().webhook = None;
            ok(json!(true))
        }
        "setWebhook" => {
            fake.lock().webhook = params["url"].as_str().map(str::to_owned);
            ok(json!(true))
        }
        "setMyCommands" => {
            fake.lock().commands.push(params);
            ok(json!(true))
        }
        "answerCallbackQuery" => {
            fake.lock()
                .callback_answers
                .push(params["callback_query_id"].as_str().unwrap_or_default().to_owned());
            ok(json!(true))
        }
        "getChatMember" => {
            ok(json!({ "status": "member", "user": user_json(params["user_id"].as_i64().unwrap_or(0), "member") }))
        }
        "sendMessage" | "sendPhoto" | "editMessageText" | "editMessageCaption" => send(&fake, &method, &params),
        _ => error(404, "Not Found: method not found", None),
    }
}

/// The fields of a `multipart/form-data` body (teloxide sends `setWebhook` and uploads so): a
/// text field as a string, a file as `{"upload": BASE64}`.
fn multipart_fields(body: &[u8], boundary: &str) -> Value {
    use base64::Engine as _;
    let delimiter = format!("--{boundary}");
    let mut fields = serde_json::Map::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        let end = find(rest, delimiter.as_bytes()).unwrap_or(rest.len());
        let part = &rest[..end];
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let mut value = &part[split + 4..];
        if value.ends_with(b"\r\n") {
            value = &value[..value.len() - 2];
        }
        let Some(name) = head.split("name=\"").nth(1).and_then(|r| r.split('"').next()) else {
            continue;
        };
        let field = if head.contains("filename=") {
            json!({ "upload": base64::engine::general_purpose::STANDARD.encode(value) })
        } else {
            Value::String(String::from_utf8_lossy(value).into_owned())
        };
        fields.insert(name.to_owned(), field);
    }
    Value::Object(fields)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A PNG's or JPEG's size, as Telegram reads it from an uploaded photo; `None` for anything else.
fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 24 {
        let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        return Some((be(16), be(20)));
    }
    None
}

/// Telegram's documented limits for `sendPhoto` uploads: at most 10 MB, width and height
/// together at most 10,000, a ratio of at most 20.
const PHOTO_MAX_BYTES: usize = 10 * 1024 * 1024;

fn canonical(method: &str) -> String {
    const METHODS: &[&str] = &[
        "getMe",
        "getUpdates",
        "deleteWebhook",
        "setWebhook",
        "setMyCommands",
        "answerCallbackQuery",
        "getChatMember",
        "sendMessage",
        "sendPhoto",
        "editMessageText",
        "editMessageCaption",
    ];
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map(|m| (*m).to_owned())
        .unwrap_or_else(|| method.to_owned())
}

async fn get_updates(fake: &FakeTelegram, params: &Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = params["timeout"].as_u64().unwrap_or(0).min(60);
    let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = fake.notify.notified();
        {
            let mut inner = fake.lock();
            // An offset confirms every update before it.
            while inner
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
            {
                inner.updates.pop_front();
            }
            if !inner.updates.is_empty() || Instant::now() >= deadline {
                let batch: Vec<Value> = inner.updates.iter().take(limit).cloned().collect();
                return ok(json!(batch));
            }
        }
        let _ = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), notified).await;
    }
}

fn send(fake: &FakeTelegram, method: &str, params: &Value) -> Response {
    let chat_id = match &params["chat_id"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    };
    let text = params["text"]
        .as_str()
        .or(params["caption"].as_str())
        .unwrap_or_default()
        .to_owned();
    let limit = if method == "sendPhoto" { 1024 } else { 4096 };
    if text.encode_utf16().count() > limit {
        let what = if method == "sendPhoto" { "caption" } else { "message" };
        return error(400, &format!("Bad Request: {what} is too long"), None);
    }
    {
        let inner = fake.lock();
        if inner.forbidden.contains(&chat_id) {
            return error(403, "Forbidden: bot was blocked by the user", None);
        }
        if chat_id > 0 && !inner.started.contains(&chat_id) {
            return error(403, "Forbidden: bot can't initiate conversation with a user", None);
        }
        if let Some(new) = inner.migrated.get(&chat_id) {
            return error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                Some(json!({ "migrate_to_chat_id": new })),
            );
        }
    }
    let paid = params["allow_paid_broadcast"].as_bool().unwrap_or(false);
    if let Err(retry_after) = fake.admit(chat_id, paid) {
        return error(
            429,
            &format!("Too Many Requests: retry after {retry_after}"),
            Some(json!({ "retry_after": retry_after })),
        );
    }
    // A photo: uploaded with the request (checked as Telegram does), or named by a file id; a
    // file id this server gave out must be one it knows.
    let mut uploaded = None;
    if method == "sendPhoto" {
        use base64::Engine as _;
        // An upload names its file part: `attach://<part>` (Telegram's documented form).
        let photo = match params["photo"].as_str().and_then(|p| p.strip_prefix("attach://")) {
            Some(part) => &params[part],
            None => &params["photo"],
        };
        if let Some(upload) = photo["upload"].as_str() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(upload)
                .unwrap_or_default();
            if bytes.len() > PHOTO_MAX_BYTES {
                return error(400, "Bad Request: file is too big", None);
            }
            let Some((w, h)) = image_size(&bytes) else {
                return error(400, "Bad Request: IMAGE_PROCESS_FAILED", None);
            };
            if w + h > 10_000 || w.max(h) > 20 * w.min(h).max(1) {
                return error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS", None);
            }
            uploaded = Some((bytes, w, h));
        } else if let Some(id) = photo.as_str()
            && id.starts_with("uploaded-")
            && !fake.lock().uploads.contains_key(id)
        {
            return error(400, "Bad Request: wrong file identifier/HTTP URL specified", None);
        }
    }
    let mut inner = fake.lock();
    if method.starts_with("edit") {
        // Telegram: a photo's words are its caption, edited with editMessageCaption; a text
        // message has no caption.
        let target = params["message_id"].as_i64().unwrap_or(0);
        let is_photo = inner
            .sent
            .iter()
            .any(|s| s.chat_id == chat_id && s.message_id == target && s.method == "sendPhoto");
        if method == "editMessageText" && is_photo {
            return error(400, "Bad Request: there is no text in the message to edit", None);
        }
        if method == "editMessageCaption" && !is_photo {
            return error(400, "Bad Request: there is no caption in the message to edit", None);
        }
    }
    let message_id = if method.starts_with("edit") {
        params["message_id"].as_i64().unwrap_or(0)
    } else {
        inner.next_message_id += 1;
        inner.next_message_id
    };
    inner.sent.push(Sent {
        method: method.to_owned(),
        chat_id,
        message_id,
        text: text.clone(),
        // Multipart requests carry the keyboard as a JSON string.
        reply_markup: params.get("reply_markup").map(|m| match m {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        }),
        photo: params.get("photo").and_then(|p| p.as_str()).map(str::to_owned),
        uploaded: false,
        paid,
    });
    let mut result = json!({
        "message_id": message_id,
        "date": 1_795_000_000,
        "chat": chat_json(chat_id),
        "from": { "id": BOT_ID, "is_bot": true, "first_name": "beatbot", "username": BOT_USERNAME },
    });
    if method == "sendPhoto" {
        let (file_id, w, h, size) = match uploaded {
            Some((bytes, w, h)) => {
                let file_id = format!("uploaded-{}", inner.uploads.len() + 1);
                let size = bytes.len();
                inner.uploads.insert(file_id.clone(), (bytes, w, h));
                let last = inner.sent.last_mut().expect("just recorded");
                last.photo = Some(file_id.clone());
                last.uploaded = true;
                (file_id, w, h, size)
            }
            None => {
                let id = params["photo"].as_str().unwrap_or_default().to_owned();
                let (w, h, size) = inner.uploads.get(&id).map_or((1, 1, 1), |(b, w, h)| (*w, *h, b.len()));
                (id, w, h, size)
            }
        };
        result["photo"] = json!([{ "file_id": file_id, "file_unique_id": format!("u-{file_id}"), "width": w, "height": h, "file_size": size }]);
        result["caption"] = json!(text);
    } else {
        result["text"] = json!(text);
    }
    ok(result)
}
