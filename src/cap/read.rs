//! Reading CAP: a message from its XML, and the entries of an Atom or RSS feed of CAP
//! messages (each either carrying the message or linking to it). Every refusal names what was
//! wrong, for the log line that reports it.

use anyhow::{Context, Result, bail};

use super::model::{
    Area, CapMessage, Category, Certainty, Info, MsgType, Point, Reference, Severity, Status, Urgency, parse_time,
};
use super::tree::{self, Element};

/// Reads one CAP message (1.2; 1.1 reads the same for what beatbot uses).
pub fn message(xml: &str) -> Result<CapMessage> {
    let root = tree::parse(xml)?;
    let alert = root.find("alert").context("no <alert> element")?;
    from_element(alert)
}

/// What a feed lists: messages carried in it, and links to messages.
#[derive(Debug, Default)]
pub struct FeedEntries {
    pub messages: Vec<Result<CapMessage>>,
    pub links: Vec<String>,
}

/// Reads a feed: Atom (`<feed><entry>`), RSS (`<rss><channel><item>`), or a bare CAP message.
pub fn feed(xml: &str) -> Result<FeedEntries> {
    let root = tree::parse(xml)?;
    let mut entries = FeedEntries::default();
    match root.name.as_str() {
        "alert" => entries.messages.push(from_element(&root)),
        "feed" => {
            for entry in root.children_named("entry") {
                if let Some(alert) = entry.find("alert") {
                    entries.messages.push(from_element(alert));
                } else if let Some(link) = atom_link(entry) {
                    entries.links.push(link);
                }
            }
        }
        "rss" | "RDF" => {
            let items: Vec<&Element> = match root.child("channel") {
                Some(channel) if channel.child("item").is_some() => channel.children_named("item").collect(),
                _ => root.children_named("item").collect(),
            };
            for item in items {
                if let Some(alert) = item.find("alert") {
                    entries.messages.push(from_element(alert));
                } else if let Some(link) = item
                    .text_of("link")
                    .or_else(|| item.child("enclosure").and_then(|e| e.attribute("url")))
                {
                    entries.links.push(link.to_owned());
                }
            }
        }
        other => bail!("neither a feed nor a CAP message: the document is <{other}>"),
    }
    Ok(entries)
}

/// An Atom entry's link to its CAP message: the one typed as CAP/XML, else the first.
fn atom_link(entry: &Element) -> Option<String> {
    let links: Vec<&Element> = entry.children_named("link").collect();
    // `application/cap+xml` first; other XML (not Atom itself) only when none says CAP.
    let typed = links
        .iter()
        .find(|l| l.attribute("type").is_some_and(|t| t.contains("cap")))
        .or_else(|| {
            links.iter().find(|l| {
                l.attribute("type")
                    .is_some_and(|t| t.contains("xml") && !t.contains("atom") && !t.contains("html"))
            })
        });
    typed
        .or_else(|| links.first())
        .and_then(|l| l.attribute("href").map(str::to_owned))
        .or_else(|| {
            entry
                .text_of("id")
                .filter(|id| id.starts_with("http"))
                .map(str::to_owned)
        })
}

fn required<'a>(element: &'a Element, name: &str) -> Result<&'a str> {
    element
        .text_of(name)
        .with_context(|| format!("<{}> lacks <{name}>", element.name))
}

fn enum_field<T>(element: &Element, name: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text = required(element, name)?;
    parse(text).with_context(|| format!("<{name}> {text:?} is not a CAP value"))
}

fn from_element(alert: &Element) -> Result<CapMessage> {
    let sent = required(alert, "sent")?.to_owned();
    let sent_ms = parse_time(&sent).with_context(|| format!("<sent> {sent:?} is not a date-time"))?;
    let references = match alert.text_of("references") {
        Some(text) => references(text)?,
        None => Vec::new(),
    };
    let infos = alert.children_named("info").map(info).collect::<Result<Vec<_>>>()?;
    Ok(CapMessage {
        identifier: required(alert, "identifier")?.to_owned(),
        sender: required(alert, "sender")?.to_owned(),
        sent,
        sent_ms,
        status: enum_field(alert, "status", Status::from_db)?,
        msg_type: enum_field(alert, "msgType", MsgType::from_db)?,
        scope: alert.text_of("scope").unwrap_or("Public").to_owned(),
        references,
        note: alert.text_of("note").map(str::to_owned),
        infos,
    })
}

/// `sender,identifier,sent` triples separated by white space.
fn references(text: &str) -> Result<Vec<Reference>> {
    text.split_whitespace()
        .map(|triple| {
            let mut parts = triple.splitn(3, ',');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(sender), Some(identifier), Some(sent)) if !sender.is_empty() && !identifier.is_empty() => {
                    Ok(Reference {
                        sender: sender.to_owned(),
                        identifier: identifier.to_owned(),
                        sent: sent.to_owned(),
                    })
                }
                _ => bail!("<references> entry {triple:?} is not sender,identifier,sent"),
            }
        })
        .collect()
}

fn time(element: &Element, name: &str) -> Result<Option<i64>> {
    element
        .text_of(name)
        .map(|t| parse_time(t).with_context(|| format!("<{name}> {t:?} is not a date-time")))
        .transpose()
}

fn info(element: &Element) -> Result<Info> {
    let categories = element
        .children_named("category")
        .map(|c| Category::from_db(&c.text).with_context(|| format!("<category> {:?} is not a CAP category", c.text)))
        .collect::<Result<Vec<_>>>()?;
    if categories.is_empty() {
        bail!("<info> lacks <category>");
    }
    Ok(Info {
        language: element.text_of("language").unwrap_or("en-US").to_owned(),
        categories,
        event: required(element, "event")?.to_owned(),
        response_types: element.children_named("responseType").map(|r| r.text.clone()).collect(),
        urgency: enum_field(element, "urgency", Urgency::from_db)?,
        severity: enum_field(element, "severity", Severity::from_db)?,
        certainty: enum_field(element, "certainty", |t| {
            // CAP 1.0's "Very Likely" reads as Likely, as CAP 1.1 says.
            if t == "Very Likely" {
                Some(Certainty::Likely)
            } else {
                Certainty::from_db(t)
            }
        })?,
        effective_ms: time(element, "effective")?,
        onset_ms: time(element, "onset")?,
        expires_ms: time(element, "expires")?,
        sender_name: element.text_of("senderName").map(str::to_owned),
        headline: element.text_of("headline").map(str::to_owned),
        description: element.text_of("description").map(str::to_owned),
        instruction: element.text_of("instruction").map(str::to_owned),
        web: element.text_of("web").map(str::to_owned),
        areas: element.children_named("area").map(area).collect::<Result<Vec<_>>>()?,
    })
}

fn area(element: &Element) -> Result<Area> {
    let polygons = element
        .children_named("polygon")
        .map(|p| polygon(&p.text))
        .collect::<Result<Vec<_>>>()?;
    let circles = element
        .children_named("circle")
        .map(|c| circle(&c.text))
        .collect::<Result<Vec<_>>>()?;
    let geocodes = element
        .children_named("geocode")
        .filter_map(|g| Some((g.text_of("valueName")?.to_owned(), g.text_of("value")?.to_owned())))
        .collect();
    Ok(Area {
        description: element.text_of("areaDesc").unwrap_or_default().to_owned(),
        polygons,
        circles,
        geocodes,
    })
}

fn point(text: &str) -> Result<Point> {
    let (lat, lon) = text
        .split_once(',')
        .with_context(|| format!("{text:?} is not latitude,longitude"))?;
    let lat: f64 = lat
        .trim()
        .parse()
        .with_context(|| format!("bad latitude in {text:?}"))?;
    let lon: f64 = lon
        .trim()
        .parse()
        .with_context(|| format!("bad longitude in {text:?}"))?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        bail!("{text:?} is off the globe");
    }
    Ok((lat, lon))
}

/// A CAP polygon: at least four points, the first and last the same.
fn polygon(text: &str) -> Result<Vec<Point>> {
    let points = text.split_whitespace().map(point).collect::<Result<Vec<_>>>()?;
    if points.len() < 4 || points.first() != points.last() {
        bail!("<polygon> needs four or more points, the last equal to the first");
    }
    Ok(points)
}

/// A CAP circle: `lat,lon radius-km`.
fn circle(text: &str) -> Result<(Point, f64)> {
    let (centre, radius) = text
        .trim()
        .split_once(char::is_whitespace)
        .with_context(|| format!("<circle> {text:?} is not \"lat,lon radius\""))?;
    let radius: f64 = radius
        .trim()
        .parse()
        .with_context(|| format!("bad radius in <circle> {text:?}"))?;
    if !radius.is_finite() || radius < 0.0 {
        bail!("bad radius in <circle> {text:?}");
    }
    Ok((point(centre)?, radius))
}
