//! Text for Matrix: a plain body and an HTML body (user text escaped), and buttons offered as
//! numbered options — Matrix has no buttons — answered by typing the number or reacting with
//! its keycap.

use crate::domain::Button;
use crate::platforms::telegram::format::escape_html;

/// The keycap emoji of options 1 to 9 (also the reaction keys that choose them).
pub const KEYCAPS: [&str; 9] = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"];

/// The buttons in reading order (rows, then left to right), at most nine.
pub fn options(buttons: &[Vec<Button>]) -> Vec<&Button> {
    buttons.iter().flatten().take(KEYCAPS.len()).collect()
}

/// The plain body: the text, then one line of numbered options.
pub fn plain_body(text: &str, buttons: &[Vec<Button>]) -> String {
    let options = options(buttons);
    if options.is_empty() {
        return text.to_owned();
    }
    let line: Vec<String> = options
        .iter()
        .zip(KEYCAPS)
        .map(|(b, key)| format!("{key} {}", b.label))
        .collect();
    format!("{text}\n\n{}", line.join("   "))
}

/// The HTML body of the same: everything escaped, line ends as `<br>`.
pub fn html_body(text: &str, buttons: &[Vec<Button>]) -> String {
    escape_html(&plain_body(text, buttons)).replace('\n', "<br>")
}

/// Which option a reply chooses: `2`, `２`, `2️⃣` or `2.` → index 1.
pub fn chosen_option(text: &str) -> Option<usize> {
    let t = text.trim().trim_end_matches(['.', '。']);
    if let Some(i) = KEYCAPS.iter().position(|k| *k == t) {
        return Some(i);
    }
    let mut chars = t.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    let digit = match c {
        '1'..='9' => c as u32 - '0' as u32,
        '１'..='９' => c as u32 - '０' as u32,
        _ => return None,
    };
    Some(digit as usize - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes_no() -> Vec<Vec<Button>> {
        vec![vec![
            Button::new("Confirm", &crate::domain::Press::AlertSend { alert: 1 }),
            Button::new("<Cancel>", &crate::domain::Press::AlertCancel { alert: 1 }),
        ]]
    }

    #[test]
    fn buttons_become_numbered_options_and_text_is_escaped() {
        assert_eq!(plain_body("Send?", &yes_no()), "Send?\n\n1️⃣ Confirm   2️⃣ <Cancel>");
        assert_eq!(
            html_body("a & b\nc", &yes_no()),
            "a &amp; b<br>c<br><br>1️⃣ Confirm   2️⃣ &lt;Cancel&gt;"
        );
        assert_eq!(plain_body("no buttons", &[]), "no buttons");
    }

    #[test]
    fn an_option_is_chosen_by_digit_full_width_digit_or_keycap() {
        assert_eq!(chosen_option("2"), Some(1));
        assert_eq!(chosen_option(" ２ "), Some(1));
        assert_eq!(chosen_option("2️⃣"), Some(1));
        assert_eq!(chosen_option("1."), Some(0));
        assert_eq!(chosen_option("12"), None);
        assert_eq!(chosen_option("0"), None);
        assert_eq!(chosen_option("yes"), None);
        assert_eq!(chosen_option(""), None);
    }
}
