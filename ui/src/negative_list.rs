//! Hunan's negative list (seed 003: "严禁基层社工站人员代替乡镇(街道)干部行使许可、确认、审批、给付等
//! 行政职能"): the station helps people apply for benefits; it never licenses, confirms, approves,
//! grants or pays them. The UI's whole vocabulary is read here — every text of `i18n`, every
//! entity kind's and field's label, every value of every closed vocabulary, in both languages —
//! and none may name one of those acts, which would suggest the station performs it.
//!
//! A few phrases use such a word for something else (the user confirming their own edit in the
//! app); each is listed with why, and only the exact phrase is allowed.

#[cfg(test)]
mod tests {
    use contract::Language;
    use domain::Labelled;
    use domain::entity::{EntityKind, FieldType};

    use crate::i18n::{Text, vocabulary_label};

    /// The administrative acts of the negative list, in Chinese.
    const FORBIDDEN_ZH: &[&str] = &["审批", "批准", "核准", "发放", "给付", "许可", "确认"];
    /// The same acts in English, as the start of a word (approve, approval; grant, granted; pay,
    /// paid, payment; confirm, confirmation; license, licence).
    const FORBIDDEN_EN: &[&str] = &["approv", "grant", "pay", "paid", "confirm", "licens", "licenc"];

    /// Phrases that use a listed word for the user confirming an edit in the app, not for an
    /// administrative act: moving a person to another village, taking one out of a household.
    const ALLOWED: &[&str] = &["确认转移", "确认移出", "Confirm removal"];

    /// Every piece of text the UI can show, with where it comes from.
    fn vocabulary() -> Vec<(String, String)> {
        let mut texts = Vec::new();
        for language in [Language::Zh, Language::En] {
            for text in Text::ALL {
                texts.push((format!("{text:?}"), text.get(language).to_string()));
            }
        }
        for kind in EntityKind::ALL {
            texts.push((format!("{kind:?}"), format!("{} {}", kind.zh(), kind.en())));
            for field in kind.spec().fields {
                texts.push((format!("{kind:?}.{}", field.name), format!("{} {}", field.zh, field.en)));
                let (FieldType::Enum(names) | FieldType::EnumSet(names)) = field.ty else { continue };
                for name in names {
                    for language in [Language::Zh, Language::En] {
                        let value = vocabulary_label(names, name, language).unwrap_or_default();
                        texts.push((format!("{kind:?}.{} = {name}", field.name), value.to_string()));
                    }
                }
            }
        }
        texts
    }

    /// The forbidden words `text` uses, once the allowed phrases are taken out.
    fn forbidden_in(text: &str) -> Vec<String> {
        let mut text = text.to_string();
        for allowed in ALLOWED {
            text = text.replace(allowed, " ");
        }
        let mut found: Vec<String> =
            FORBIDDEN_ZH.iter().filter(|word| text.contains(*word)).map(|w| (*w).to_string()).collect();
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_ascii_alphabetic()) {
            if let Some(stem) = FORBIDDEN_EN.iter().find(|stem| word.starts_with(*stem)) {
                found.push(format!("{word} ({stem}…)"));
            }
        }
        found
    }

    #[test]
    fn no_screen_or_field_says_the_station_approves_grants_or_pays() {
        let vocabulary = vocabulary();
        assert!(vocabulary.len() > 500, "the whole vocabulary is read: {}", vocabulary.len());
        let offending: Vec<String> = vocabulary
            .into_iter()
            .filter_map(|(source, text)| {
                let found = forbidden_in(&text);
                (!found.is_empty()).then(|| format!("{source}: {text:?} uses {found:?}"))
            })
            .collect();
        assert!(offending.is_empty(), "the negative list forbids these:\n{}", offending.join("\n"));
    }

    #[test]
    fn the_check_catches_each_act_in_either_language() {
        for text in ["审批通过", "已批准", "补贴已发放", "给付低保金", "确认资格", "行政许可"]
        {
            assert!(!forbidden_in(text).is_empty(), "{text}");
        }
        for text in ["Approved", "benefit granted", "Paid", "payment made", "Confirmed eligibility"] {
            assert!(!forbidden_in(text).is_empty(), "{text}");
        }
        for text in ["协助申请", "部门反馈：已解决", "Helped apply for a benefit", "Company", "确认转移"]
        {
            assert!(forbidden_in(text).is_empty(), "{text}");
        }
    }
}
