//! Text rules applied to everything people type, and masking of personal numbers.

/// The longest message the bot accepts (Telegram's own limit).
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Why a message was refused before any command was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputProblem {
    #[error("too long: {chars} characters")]
    TooLong { chars: usize },
    #[error("invisible control characters")]
    ControlCharacters,
}

/// Zero-width characters are dropped silently (they arrive with copy-and-paste from other apps
/// and would break command words); other control and bidi-override characters are refused,
/// because they can disguise what a message says. Newlines and tabs are fine.
pub fn check_input(text: &str) -> Result<String, InputProblem> {
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(InputProblem::TooLong { chars });
    }
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            '\n' | '\t' => clean.push(c),
            '\r' => {}
            c if c.is_control() => return Err(InputProblem::ControlCharacters),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                return Err(InputProblem::ControlCharacters);
            }
            c => clean.push(c),
        }
    }
    Ok(clean)
}

/// Keeps the last four characters and replaces the rest with `*`: `110101********1234`.
pub fn mask_tail(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = 4.min(chars.len());
    let hidden = chars.len() - keep;
    let mut out = "*".repeat(hidden.max(if chars.len() <= 4 { 0 } else { 1 }));
    out.extend(&chars[hidden..]);
    out
}

/// Masks every run of seven or more digits (an ID, phone or account number) in text shown to
/// someone who may not see it in full, keeping only the run's last four characters. Digits of
/// any script count (full-width ones from Chinese input methods too), and a run goes on across
/// single spaces, dashes and dots between digits (`138-0013-8000`).
pub fn redact_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_digit = |c: char| c.is_numeric();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        while i < chars.len() {
            let c = chars[i];
            if is_digit(c) {
                digits += 1;
                i += 1;
            } else if matches!(c, 'X' | 'x' | 'Ｘ') && digits > 0 {
                i += 1;
                break;
            } else if matches!(c, ' ' | '-' | '.' | '－') && chars.get(i + 1).is_some_and(|n| is_digit(*n)) {
                i += 1;
            } else {
                break;
            }
        }
        let run: String = chars[start..i].iter().collect();
        if digits >= 7 {
            out.push_str(&mask_tail(&run));
        } else {
            out.push_str(&run);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_characters_are_dropped_and_controls_refused() {
        assert_eq!(check_input("/he\u{200B}lp").unwrap(), "/help");
        assert_eq!(check_input("a\u{0007}b"), Err(InputProblem::ControlCharacters));
        assert_eq!(check_input("x\u{202E}y"), Err(InputProblem::ControlCharacters));
        assert_eq!(check_input("line1\nline2").unwrap(), "line1\nline2");
    }

    #[test]
    fn overlong_messages_are_refused() {
        let long = "字".repeat(MAX_MESSAGE_CHARS + 1);
        assert!(matches!(check_input(&long), Err(InputProblem::TooLong { .. })));
    }

    #[test]
    fn long_digit_runs_are_redacted_and_short_ones_kept() {
        assert_eq!(
            redact_numbers("id=11010519491231002X room 305"),
            "id=**************002X room 305"
        );
        assert_eq!(redact_numbers("call 110 or 13800138000"), "call 110 or *******8000");
        assert_eq!(
            redact_numbers("/report １１０１０５１９４９１２３１００２X"),
            "/report **************００２X"
        );
        assert_eq!(redact_numbers("tel 138-0013-8000."), "tel *********8000.");
        assert_eq!(redact_numbers("room 305, 2 guests"), "room 305, 2 guests");
    }

    #[test]
    fn masking_keeps_only_the_last_four_characters() {
        assert_eq!(mask_tail("11010519491231002X"), "**************002X");
        assert_eq!(mask_tail("13800138000"), "*******8000");
        assert_eq!(mask_tail("12"), "12");
    }
}
