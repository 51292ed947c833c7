//! Writing CAP 1.2 messages and the Atom feed that lists a station's messages, with quick-xml's
//! writer (it escapes text and attributes).

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::model::{Area, CapMessage, Info};

pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";
const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

type Out = Writer<Cursor<Vec<u8>>>;

fn text(w: &mut Out, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(value))?;
    Ok(())
}

fn optional(w: &mut Out, name: &str, value: Option<&str>) -> std::io::Result<()> {
    match value {
        Some(v) if !v.is_empty() => text(w, name, v),
        _ => Ok(()),
    }
}

fn finish(w: Out) -> String {
    String::from_utf8(w.into_inner().into_inner()).expect("the writer writes UTF-8")
}

/// One CAP message as a document. `format_time` writes a time in the station's zone.
pub fn message(m: &CapMessage, format_time: &dyn Fn(i64) -> String) -> String {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    let written = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        alert(&mut w, m, format_time)
    })();
    written.expect("writing to memory does not fail");
    finish(w)
}

fn alert(w: &mut Out, m: &CapMessage, format_time: &dyn Fn(i64) -> String) -> std::io::Result<()> {
    w.create_element("alert")
        .with_attribute(("xmlns", CAP_NAMESPACE))
        .write_inner_content(|w| {
            text(w, "identifier", &m.identifier)?;
            text(w, "sender", &m.sender)?;
            text(w, "sent", &m.sent)?;
            text(w, "status", m.status.as_str())?;
            text(w, "msgType", m.msg_type.as_str())?;
            text(w, "scope", &m.scope)?;
            optional(w, "note", m.note.as_deref())?;
            if !m.references.is_empty() {
                let references: Vec<String> = m.references.iter().map(|r| r.to_cap()).collect();
                text(w, "references", &references.join(" "))?;
            }
            for i in &m.infos {
                info(w, i, format_time)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn info(w: &mut Out, i: &Info, format_time: &dyn Fn(i64) -> String) -> std::io::Result<()> {
    w.create_element("info").write_inner_content(|w| {
        text(w, "language", &i.language)?;
        for c in &i.categories {
            text(w, "category", c.as_str())?;
        }
        text(w, "event", &i.event)?;
        for r in &i.response_types {
            text(w, "responseType", r)?;
        }
        text(w, "urgency", i.urgency.as_str())?;
        text(w, "severity", i.severity.as_str())?;
        text(w, "certainty", i.certainty.as_str())?;
        optional(w, "effective", i.effective_ms.map(format_time).as_deref())?;
        optional(w, "onset", i.onset_ms.map(format_time).as_deref())?;
        optional(w, "expires", i.expires_ms.map(format_time).as_deref())?;
        optional(w, "senderName", i.sender_name.as_deref())?;
        optional(w, "headline", i.headline.as_deref())?;
        optional(w, "description", i.description.as_deref())?;
        optional(w, "instruction", i.instruction.as_deref())?;
        optional(w, "web", i.web.as_deref())?;
        for a in &i.areas {
            area(w, a)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn area(w: &mut Out, a: &Area) -> std::io::Result<()> {
    w.create_element("area").write_inner_content(|w| {
        text(w, "areaDesc", &a.description)?;
        for polygon in &a.polygons {
            let points: Vec<String> = polygon.iter().map(|(lat, lon)| format!("{lat},{lon}")).collect();
            text(w, "polygon", &points.join(" "))?;
        }
        for ((lat, lon), radius) in &a.circles {
            text(w, "circle", &format!("{lat},{lon} {radius}"))?;
        }
        for (name, value) in &a.geocodes {
            w.create_element("geocode").write_inner_content(|w| {
                text(w, "valueName", name)?;
                text(w, "value", value)
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// An entry of a station's feed.
pub struct FeedEntry {
    pub title: String,
    pub summary: String,
    /// When it was sent, as CAP writes it.
    pub updated: String,
    pub link: String,
}

/// The Atom feed of a station's messages, newest first, each linking to its CAP document.
pub fn atom(id: &str, title: &str, updated: &str, self_link: &str, entries: &[FeedEntry]) -> String {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    let written = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("feed")
            .with_attribute(("xmlns", ATOM_NAMESPACE))
            .write_inner_content(|w| {
                text(w, "id", id)?;
                text(w, "title", title)?;
                text(w, "updated", updated)?;
                w.create_element("link")
                    .with_attributes([("rel", "self"), ("href", self_link)])
                    .write_empty()?;
                for e in entries {
                    w.create_element("entry").write_inner_content(|w| {
                        text(w, "id", &e.link)?;
                        text(w, "title", &e.title)?;
                        text(w, "updated", &e.updated)?;
                        text(w, "summary", &e.summary)?;
                        w.create_element("link")
                            .with_attributes([
                                ("rel", "alternate"),
                                ("type", "application/cap+xml"),
                                ("href", e.link.as_str()),
                            ])
                            .write_empty()?;
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    written.expect("writing to memory does not fail");
    finish(w)
}
