//! Text for Telegram: HTML parse mode with everything escaped, and splitting at Telegram's
//! limits (4,096 characters for a message, 1,024 for a caption) at the most natural boundary
//! that fits — a blank line, a line end, a sentence end, a space — never inside a character.

/// Telegram's limit for a message text, in characters (UTF-16 code units are what Telegram
/// counts; beatbot counts `char`s and stays under by keeping a margin for astral characters).
pub const MESSAGE_LIMIT: usize = 4096;
/// Telegram's limit for a photo caption.
pub const CAPTION_LIMIT: usize = 1024;

/// Escapes text for `parse_mode = HTML` (the three characters Telegram requires).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// How many UTF-16 code units Telegram counts for `text`.
pub fn telegram_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// How many UTF-16 code units `c` takes once escaped for HTML.
fn escaped_units(c: char) -> usize {
    match c {
        '<' | '>' => 4,
        '&' => 5,
        c => c.len_utf16(),
    }
}

/// Splits `text` so that every part, once escaped with [`escape_html`], fits `limit`.
pub fn split_for_html(text: &str, limit: usize) -> Vec<String> {
    split_by(text, limit, escaped_units)
}

/// The longest prefix of `text` whose escaped form fits `limit` (for edits, which are one
/// message).
pub fn truncate_for_html(text: &str, limit: usize) -> &str {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += escaped_units(c);
        if units > limit {
            return &text[..i];
        }
    }
    text
}

/// Splits `text` into parts of at most `limit` UTF-16 code units each, preferring to cut after
/// a blank line, then a line end, then a sentence end (`. ! ? 。！？`), then a space.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    split_by(text, limit, char::len_utf16)
}

fn split_by(text: &str, limit: usize, units_of: fn(char) -> usize) -> Vec<String> {
    let weight = |s: &str| s.chars().map(units_of).sum::<usize>();
    let mut parts = Vec::new();
    let mut rest = text.trim_end();
    while weight(rest) > limit {
        // The longest prefix that fits, on a char boundary.
        let mut fit = 0;
        let mut units = 0;
        for (i, c) in rest.char_indices() {
            units += units_of(c);
            if units > limit {
                break;
            }
            fit = i + c.len_utf8();
        }
        let head = &rest[..fit];
        let cut = best_cut(head).filter(|&c| c > fit / 2).unwrap_or(fit);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// The byte index just after the best boundary in `head`, if any.
fn best_cut(head: &str) -> Option<usize> {
    if let Some(i) = head.rfind("\n\n") {
        return Some(i + 2);
    }
    if let Some(i) = head.rfind('\n') {
        return Some(i + 1);
    }
    let sentence = head
        .char_indices()
        .filter(|(_, c)| matches!(c, '。' | '！' | '？' | '.' | '!' | '?'))
        .map(|(i, c)| i + c.len_utf8())
        .next_back();
    if sentence.is_some() {
        return sentence;
    }
    head.rfind(' ').map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(escape_html("<b>Zhao & Li</b>"), "&lt;b&gt;Zhao &amp; Li&lt;/b&gt;");
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split("hello", 10), vec!["hello"]);
        assert_eq!(split("", 10), vec![""]);
    }

    #[test]
    fn long_text_is_cut_at_paragraphs_then_sentences_then_spaces() {
        let text = format!("{}\n\n{}", "a".repeat(30), "b".repeat(30));
        assert_eq!(split(&text, 40), vec!["a".repeat(30), "b".repeat(30)]);
        assert_eq!(
            split("One two three. Four five six.", 20),
            vec!["One two three.", "Four five six."]
        );
        assert_eq!(split("aaaa bbbb cccc dddd", 10), vec!["aaaa bbbb", "cccc dddd"]);
    }

    #[test]
    fn every_part_fits_and_nothing_is_lost_even_in_chinese_and_emoji() {
        let text = "注意防范电信诈骗。".repeat(700) + "🚨".repeat(3000).as_str();
        let parts = split(&text, MESSAGE_LIMIT);
        assert!(parts.len() > 2);
        assert!(parts.iter().all(|p| telegram_len(p) <= MESSAGE_LIMIT));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn parts_fit_once_escaped() {
        let text = "<&> ".repeat(2000);
        let parts = split_for_html(&text, MESSAGE_LIMIT);
        assert!(parts.iter().all(|p| telegram_len(&escape_html(p)) <= MESSAGE_LIMIT));
        assert_eq!(parts.join(" ").split_whitespace().count(), 2000);
        assert_eq!(truncate_for_html("a&b", 5), "a");
        assert!(telegram_len(&escape_html(truncate_for_html(&text, MESSAGE_LIMIT))) <= MESSAGE_LIMIT);
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_hard() {
        let parts = split(&"x".repeat(25), 10);
        assert_eq!(parts, vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    }
}
