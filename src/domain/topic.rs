//! What an alert or tip is about, as residents choose it in `/subscribe`: weather, fraud
//! warnings, traffic, public security, missing persons, safety tips. A group gets every topic
//! unless an officer unticks some for it; a resident gets by private chat what they ticked.

super::text_enum! {
    pub enum Topic {
        Weather = "weather",
        Fraud = "fraud",
        Traffic = "traffic",
        Security = "security",
        Missing = "missing",
        Tips = "tips",
    }
}

impl Topic {
    /// The topics alerts come in (all but tips).
    pub const ALERTS: &'static [Topic] = &[
        Topic::Weather,
        Topic::Fraud,
        Topic::Traffic,
        Topic::Security,
        Topic::Missing,
    ];

    /// A word people type for topics: a topic's name in either language, or `alerts` (预警) for
    /// every alert topic.
    pub fn parse(word: &str) -> Option<&'static [Topic]> {
        Some(match word.to_lowercase().as_str() {
            "weather" | "天气" | "气象" => &[Topic::Weather],
            "fraud" | "scam" | "诈骗" | "反诈" => &[Topic::Fraud],
            "traffic" | "交通" => &[Topic::Traffic],
            "security" | "safety" | "治安" | "公共安全" => &[Topic::Security],
            "missing" | "寻人" | "失踪" | "协查" => &[Topic::Missing],
            "tips" | "tip" | "提示" | "安全提示" => &[Topic::Tips],
            "alerts" | "alert" | "预警" | "警报" => Topic::ALERTS,
            _ => return None,
        })
    }

    /// The topic of an official warning of CAP `category`.
    pub fn of_cap(category: crate::cap::Category) -> Topic {
        use crate::cap::Category;
        match category {
            Category::Met | Category::Geo | Category::Env => Topic::Weather,
            Category::Transport | Category::Infra => Topic::Traffic,
            _ => Topic::Security,
        }
    }

    /// The template naming it (`topic.weather`).
    pub fn label_key(self) -> &'static str {
        match self {
            Topic::Weather => "topic.weather",
            Topic::Fraud => "topic.fraud",
            Topic::Traffic => "topic.traffic",
            Topic::Security => "topic.security",
            Topic::Missing => "topic.missing",
            Topic::Tips => "topic.tips",
        }
    }

    /// Its place in button data (`sub:N`).
    pub fn index(self) -> usize {
        Topic::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_both_languages_and_alerts_for_all_alert_topics() {
        assert_eq!(Topic::parse("天气"), Some(&[Topic::Weather][..]));
        assert_eq!(Topic::parse("Fraud"), Some(&[Topic::Fraud][..]));
        assert_eq!(Topic::parse("预警").map(<[Topic]>::len), Some(5));
        assert_eq!(Topic::parse("news"), None);
        for t in Topic::ALL {
            assert_eq!(Topic::ALL[t.index()], *t);
        }
    }
}
