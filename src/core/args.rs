//! A command's arguments: words and `key=value` pairs, with quotes ("…" or “…”) for values
//! with spaces, and what the person is told when they are malformed.

use super::UserError;

/// One argument: a plain word or a `key=value` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Word(String),
    Pair(String, String),
}

/// What is wrong with an argument list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("a quote is not closed")]
    UnterminatedQuote,
    #[error("`{0}=` has no value")]
    EmptyValue(String),
    /// `=value` with no key, or a key with characters other than letters, digits and `_`.
    #[error("`{0}` is no key=value pair")]
    BadPair(String),
}

/// Splits arguments on white space; double quotes (ASCII or Chinese) group words; a word of
/// the form `key=value` becomes a pair (keys are lower-cased).
pub fn arguments(input: &str) -> Result<Vec<Arg>, ArgError> {
    let mut args = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(args);
        }
        let mut raw = String::new();
        let mut quoted_from: Option<usize> = None;
        let mut key_len: Option<usize> = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '"' | '“' | '”' => {
                    quoted_from.get_or_insert(raw.len());
                    let mut closed = false;
                    for q in chars.by_ref() {
                        if matches!(q, '"' | '”' | '“') {
                            closed = true;
                            break;
                        }
                        raw.push(q);
                    }
                    if !closed {
                        return Err(ArgError::UnterminatedQuote);
                    }
                }
                '=' | '＝' if key_len.is_none() && quoted_from.is_none() => {
                    key_len = Some(raw.len());
                    raw.push('=');
                }
                c => raw.push(c),
            }
        }
        match key_len {
            None => args.push(Arg::Word(raw)),
            Some(k) => {
                let key = raw[..k].to_lowercase();
                let value = raw[k + 1..].trim().to_owned();
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(ArgError::BadPair(raw.chars().take(40).collect()));
                }
                if value.is_empty() {
                    return Err(ArgError::EmptyValue(key));
                }
                args.push(Arg::Pair(key, value));
            }
        }
    }
}

impl From<ArgError> for UserError {
    fn from(e: ArgError) -> UserError {
        match e {
            ArgError::UnterminatedQuote => UserError::new("common.unterminated_quote"),
            ArgError::EmptyValue(key) => UserError::new("common.empty_value").arg("key", key),
            ArgError::BadPair(_) => UserError::new("common.bad_args"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_words_pairs_and_quotes() {
        let args = arguments(r#"noid room=305 name="Zhao Liu" note=“两 人”"#).unwrap();
        assert_eq!(
            args,
            vec![
                Arg::Word("noid".into()),
                Arg::Pair("room".into(), "305".into()),
                Arg::Pair("name".into(), "Zhao Liu".into()),
                Arg::Pair("note".into(), "两 人".into()),
            ]
        );
        assert_eq!(
            arguments("a=\"x=y\"").unwrap(),
            vec![Arg::Pair("a".into(), "x=y".into())]
        );
    }

    #[test]
    fn malformed_arguments_are_errors() {
        assert_eq!(arguments(r#"name="Zhao"#), Err(ArgError::UnterminatedQuote));
        assert_eq!(arguments("room="), Err(ArgError::EmptyValue("room".into())));
        assert!(matches!(arguments("=305"), Err(ArgError::BadPair(_))));
    }
}
