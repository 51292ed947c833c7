//! The CAP reader and writer on the test files in `tests/data/cap` (written from the CAP 1.2
//! specification's structure): every field read, a written message read back the same, feeds
//! of both kinds, and refusals that say what is wrong.

use super::model::{CapMessage, Category, MsgType, Severity, Status};
use super::{read, write};

fn file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cap")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn shanghai_time(ms: i64) -> String {
    super::model::format_time(ms, chrono_tz::Asia::Shanghai)
}

#[test]
fn the_flood_alert_reads_with_every_field() {
    let m = read::message(&file("flood-alert.xml")).unwrap();
    assert_eq!(m.identifier, "CN-BJ-MET-2026-1205-001");
    assert_eq!(m.sender, "warning@bjmb.example.cn");
    assert_eq!(m.status, Status::Actual);
    assert_eq!(m.msg_type, MsgType::Alert);
    assert_eq!(m.infos.len(), 2);
    let zh = m.info_for("zh-CN").unwrap();
    assert_eq!(zh.headline.as_deref(), Some("暴雨橙色预警"));
    assert_eq!(zh.categories, vec![Category::Met]);
    assert_eq!(zh.severity, Severity::Severe);
    let en = m.info_for("en").unwrap();
    assert_eq!(en.event, "Rainstorm");
    assert_eq!(en.areas[0].polygons[0].len(), 5);
    assert_eq!(en.areas[0].geocodes, vec![("GB2260".to_owned(), "110105".to_owned())]);
    assert_eq!(m.expires_ms(), super::model::parse_time("2099-12-31T12:00:00Z"));
}

#[test]
fn updates_and_cancels_carry_their_references() {
    let update = read::message(&file("flood-update.xml")).unwrap();
    assert_eq!(update.msg_type, MsgType::Update);
    assert_eq!(update.references.len(), 1);
    assert_eq!(update.references[0].identifier, "CN-BJ-MET-2026-1205-001");
    let cancel = read::message(&file("flood-cancel.xml")).unwrap();
    assert_eq!(cancel.msg_type, MsgType::Cancel);
    assert_eq!(cancel.references.len(), 2);
    assert_eq!(read::message(&file("exercise.xml")).unwrap().status, Status::Exercise);
}

#[test]
fn a_written_message_reads_back_the_same() {
    for name in [
        "flood-alert.xml",
        "flood-update.xml",
        "flood-cancel.xml",
        "health-moderate.xml",
    ] {
        let m = read::message(&file(name)).unwrap();
        let xml = write::message(&m, &shanghai_time);
        let back: CapMessage = read::message(&xml).unwrap();
        assert_eq!(back, m, "{name} after writing:\n{xml}");
    }
}

#[test]
fn atom_and_rss_feeds_list_carried_and_linked_messages() {
    let carried = file("flood-alert.xml").replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "");
    let atom = format!(
        r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
        <entry><id>a</id><content type="text/xml">{carried}</content></entry>
        <entry><id>b</id><link rel="alternate" type="text/html" href="http://x/b.html"/><link rel="alternate" type="application/cap+xml" href="http://x/b.xml"/></entry>
        </feed>"#
    );
    let entries = read::feed(&atom).unwrap();
    assert_eq!(entries.messages.len(), 1);
    assert!(entries.messages[0].is_ok());
    assert_eq!(entries.links, vec!["http://x/b.xml".to_owned()]);
    let rss = r#"<rss version="2.0"><channel><title>t</title><item><title>x</title><link>http://x/c.xml</link></item></channel></rss>"#;
    assert_eq!(read::feed(rss).unwrap().links, vec!["http://x/c.xml".to_owned()]);
    assert_eq!(read::feed(&file("flood-alert.xml")).unwrap().messages.len(), 1);
}

#[test]
fn broken_messages_are_refused_saying_what_is_wrong() {
    let reason = |xml: &str| format!("{:#}", read::message(xml).unwrap_err());
    assert!(
        reason(&file("malformed.xml")).contains("ends inside"),
        "{}",
        reason(&file("malformed.xml"))
    );
    let flood = file("flood-alert.xml");
    assert!(reason(&flood.replace("<sender>warning@bjmb.example.cn</sender>", "")).contains("<sender>"));
    assert!(reason(&flood.replace("<severity>Severe</severity>", "<severity>Awful</severity>")).contains("Awful"));
    assert!(reason(&flood.replace("2026-12-05T08:00:00+08:00</sent>", "yesterday</sent>")).contains("yesterday"));
    assert!(reason(&flood.replace("39.85,116.40 40.05", "39.85,116.40 91.0")).contains("globe"));
    assert!(reason(&flood.replace("39.85,116.55 39.85,116.40", "39.85,116.55")).contains("polygon"));
    assert!(read::feed("<html><body>502 Bad Gateway</body></html>").is_err());
}
