//! Derived search keys the store keeps next to each recipient: pinyin initials for `zs` → 张三,
//! reversed ID and phone numbers so a suffix search is an index range, and the category bit mask.
//!
//! Polyphonic characters: every character is read with its most common reading (the `pinyin`
//! crate's first reading), which is what people type for given names. Surnames are different: a
//! handful of common surnames are read differently from the character's everyday reading (曾 is
//! Zēng as a surname, not céng). For a name whose first character is one of
//! [`SURNAME_READINGS`], the store also keeps the initials with the surname reading, and a search
//! matches either. Compound surnames and other characters use the common reading only.

use domain::Labelled;
use domain::recipient::RecipientCategory;
use pinyin::ToPinyin;
use serde_json::Value;

/// Surnames whose surname reading starts with another letter than the character's common reading.
pub const SURNAME_READINGS: &[(char, char)] = &[
    ('曾', 'z'), // zēng, common céng
    ('单', 's'), // shàn, common dān
    ('解', 'x'), // xiè, common jiě
    ('仇', 'q'), // qiú, common chóu
    ('区', 'o'), // ōu, common qū
    ('查', 'z'), // zhā, common chá
    ('乐', 'y'), // yuè, common lè
    ('覃', 'q'), // qín, common tán
    ('尉', 'y'), // yù (尉迟), common wèi
    ('翟', 'z'), // zhái, common dí
    ('长', 'c'), // cháng, common zhǎng
    ('秘', 'b'), // bì, common mì
    ('召', 's'), // shào, common zhào
    ('种', 'c'), // chóng, common zhǒng
];

fn initial_of(c: char) -> Option<char> {
    if c.is_ascii_alphabetic() {
        return Some(c.to_ascii_lowercase());
    }
    c.to_pinyin().and_then(|p| p.first_letter().chars().next())
}

/// Pinyin initials by each character's common reading: 张三 → `zs`. Latin letters count as
/// themselves; anything else (digits, `·`, spaces) is skipped.
pub fn name_initials(name: &str) -> String {
    name.chars().filter_map(initial_of).collect()
}

/// The initials with the surname reading of the first character, when that differs from
/// [`name_initials`]: 曾小明 → `zxm` (common reading `cxm`).
pub fn name_initials_alt(name: &str) -> Option<String> {
    let first = name.trim_start().chars().next()?;
    let (_, surname_initial) = SURNAME_READINGS.iter().find(|(c, _)| *c == first)?;
    let common = name_initials(name);
    let mut alt: String = surname_initial.to_string();
    alt.extend(common.chars().skip(1));
    (alt != common).then_some(alt)
}

/// The string reversed by characters, for suffix search through an index.
pub fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// The category bit mask of a `categories` value (a JSON array of stored names).
pub fn category_mask(categories: &Value) -> i64 {
    categories
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(RecipientCategory::parse)
        .fold(0i64, |mask, c| mask | i64::from(c.bit()))
}

/// Whether a name query is pinyin initials (Latin letters only) rather than Chinese text.
pub fn is_initials_query(query: &str) -> bool {
    !query.is_empty() && query.chars().all(|c| c.is_ascii_alphabetic())
}

/// Escapes `*`, `?` and `[` for a GLOB pattern.
pub fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_follow_the_common_reading() {
        assert_eq!(name_initials("张三"), "zs");
        assert_eq!(name_initials("欧阳 娜娜"), "oynn");
        assert_eq!(name_initials("阿依古丽·买买提"), "aygl".to_string() + "mmt");
        assert_eq!(name_initials("Tom李"), "toml");
    }

    #[test]
    fn polyphonic_surnames_also_get_their_surname_reading() {
        assert_eq!(name_initials("曾小明"), "cxm");
        assert_eq!(name_initials_alt("曾小明"), Some("zxm".into()));
        assert_eq!(name_initials_alt("单田芳"), Some("stf".into()));
        assert_eq!(name_initials_alt("张三"), None);
    }

    #[test]
    fn masks_and_escapes() {
        let v = serde_json::json!(["Dibao", "Disability", "Nonsense"]);
        assert_eq!(category_mask(&v), i64::from(RecipientCategory::Dibao.bit() | RecipientCategory::Disability.bit()));
        assert_eq!(glob_escape("a*b?[c"), "a[*]b[?][[]c");
        assert_eq!(like_escape("50%_\\"), "50\\%\\_\\\\");
        assert_eq!(reversed("11010519491231002X"), "X20013219491501011");
    }
}
