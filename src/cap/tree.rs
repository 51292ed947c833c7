//! A small element tree read with quick-xml, names without their namespace prefix.
//!
//! CAP arrives bare (`<alert xmlns=…>`), prefixed inside Atom entries (`<cap:alert>`), or as a
//! link in RSS; publishers pick prefixes freely. quick-xml's serde mapping matches names with
//! their prefix, so beatbot reads events into this tree by local name and maps the tree itself.

use anyhow::{Result, bail};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Deeper than any CAP or feed document needs: a document nesting more is refused, not
/// followed down.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// The local name (`alert`, not `cap:alert`).
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text, trimmed.
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The text of the first child called `name`, when it has any.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str()).filter(|t| !t.is_empty())
    }
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// This element or the first below it called `name` (depth first).
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// Reads a whole document into its root element.
pub fn parse(xml: &str) -> Result<Element> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| anyhow::anyhow!("not well-formed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    bail!("elements nested deeper than {MAX_DEPTH}");
                }
                stack.push(open(&start));
            }
            Event::Empty(start) => close(&mut stack, &mut root, open(&start))?,
            Event::End(_) => {
                let Some(mut element) = stack.pop() else {
                    bail!("a closing tag without its opening")
                };
                element.text = element.text.trim().to_owned();
                close(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => {
                if let Some(parent) = stack.last_mut() {
                    parent.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(parent) = stack.last_mut() {
                    parent.text.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference.xml10_content();
                let resolved = match name.as_ref() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "apos" => '\'',
                    "quot" => '"',
                    _ => match reference.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => bail!("unknown entity &{name};"),
                    },
                };
                if let Some(parent) = stack.last_mut() {
                    parent.text.push(resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        bail!("the document ends inside <{}>", open.name);
    }
    root.ok_or_else(|| anyhow::anyhow!("an empty document"))
}

fn open(start: &quick_xml::events::BytesStart<'_>) -> Element {
    let mut element = Element {
        name: start.name().local_name().as_ref().to_owned(),
        ..Element::default()
    };
    for attribute in start.attributes().flatten() {
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_default();
        element
            .attributes
            .push((attribute.key.local_name().as_ref().to_owned(), value));
    }
    element
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) -> Result<()> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => bail!("more than one root element"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_prefix_and_text_is_unescaped() {
        let root = parse(
            r#"<?xml version="1.0"?><feed xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"><entry><cap:alert><cap:headline>Rain &amp; wind &#x4E2D;</cap:headline><empty a="1"/></cap:alert></entry></feed>"#,
        )
        .unwrap();
        let alert = root.find("alert").unwrap();
        assert_eq!(alert.text_of("headline"), Some("Rain & wind 中"));
        assert_eq!(alert.child("empty").unwrap().attribute("a"), Some("1"));
    }

    #[test]
    fn broken_documents_are_refused_with_a_reason() {
        for bad in ["", "<a><b></a>", "<a>", "<a></a><b></b>", "<a>&nope;</a>"] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(&deep).is_err());
    }
}
