//! The two languages beatbot speaks.

use std::fmt;

/// A user-facing language. Chinese is the default of a station unless bot-scripts say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Accepts `zh`, `zh-CN`, `cn`, `中文`, `en`, `en-US`, `english`, `英文` (any case).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_lowercase();
        match s.as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" | "chinese" | "中文" | "汉语" => Some(Lang::Zh),
            "en" | "en-us" | "en_us" | "en-gb" | "english" | "英文" | "英语" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_names_in_both_languages() {
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("中文"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }
}
