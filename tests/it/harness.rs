//! Shared test support: the shipped scripts, fresh databases on both backends.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use beatbot::core::faq::FaqService;
use beatbot::scripts::Scripts;
use beatbot::store::Store;
use sqlx::Connection;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The transcripts of `tests/transcripts/`, in name order (only those whose path contains
/// `BEATBOT_TRANSCRIPT`, when it is set: for running one while working on it).
pub fn transcript_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/transcripts"))
        .expect("tests/transcripts exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    if let Ok(only) = std::env::var("BEATBOT_TRANSCRIPT") {
        files.retain(|f| f.to_string_lossy().contains(&only));
    }
    files
}

/// The project's own bot-scripts, loaded once.
pub fn scripts() -> (Arc<Scripts>, Arc<FaqService>) {
    static SCRIPTS: OnceLock<(Arc<Scripts>, Arc<FaqService>)> = OnceLock::new();
    SCRIPTS
        .get_or_init(|| {
            let scripts = beatbot::scripts::load(&root().join("bot-scripts")).expect("shipped bot-scripts are valid");
            let faq = FaqService::new(&scripts);
            (Arc::new(scripts), faq)
        })
        .clone()
}

/// A fresh SQLite database in a temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (Store::open(&url).await.expect("sqlite store"), dir)
}

/// The PostgreSQL server of this project's machines, or `BEATBOT_TEST_POSTGRES_URL`.
pub fn postgres_url() -> String {
    std::env::var("BEATBOT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL database (dropped by `drop_postgres`). When no server answers the test
/// fails with one line saying what to do — unless `BEATBOT_TEST_POSTGRES=skip` opts out
/// explicitly (then `None`, with one loud line). CI never opts out.
pub async fn postgres() -> Option<(Store, String)> {
    let admin_url = postgres_url();
    let mut admin = match sqlx::postgres::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("BEATBOT_TEST_POSTGRES").as_deref() == Ok("skip") => {
            eprintln!("!!!!! SKIPPED POSTGRESQL (BEATBOT_TEST_POSTGRES=skip): no server at {admin_url} ({e}) !!!!!");
            return None;
        }
        Err(e) => panic!(
            "no PostgreSQL server at {admin_url} ({e}): start one (e.g. `docker run -p 5432:5432 -e \
             POSTGRES_HOST_AUTH_METHOD=trust postgres`), point BEATBOT_TEST_POSTGRES_URL at one, or opt out \
             explicitly with BEATBOT_TEST_POSTGRES=skip"
        ),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("beatbot_test_{}_{nanos}", std::process::id());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin_url.clone());
    let store = Store::open(&format!("{base}/{name}")).await.expect("postgres store");
    Some((store, name))
}

pub async fn drop_postgres(store: Store, name: &str) {
    store.close().await;
    if let Ok(mut admin) = sqlx::postgres::PgConnection::connect(&postgres_url()).await {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .ok();
    }
}

/// A person's identities, as `add_person` takes them.
pub type Identities = Vec<(beatbot::domain::Platform, String, Option<String>)>;

/// Station xinhua (in English), officer wang (beat east) and li, the front desk of the Jinjiang
/// Inn (beat east): the world most adapter tests start from, each reached through `ids(handle)`.
/// `false` (and nothing added) when the database has the station already.
#[must_use]
pub async fn xinhua(app: &beatbot::app::App, ids: impl Fn(&str) -> Identities) -> bool {
    use beatbot::domain::{Lang, Role};
    if app
        .add_station("xinhua", "Xinhua Road Station", Some(Lang::En))
        .await
        .is_err()
    {
        return false;
    }
    let people = [
        ("wang", Role::Officer, None),
        ("li", Role::Liaison, Some("Jinjiang Inn")),
    ];
    for (handle, role, hotel) in people {
        app.add_person(
            handle,
            role,
            Some("xinhua"),
            Some("east"),
            hotel,
            false,
            None,
            &ids(handle),
        )
        .await
        .unwrap();
    }
    true
}
