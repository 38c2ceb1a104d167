//! Validation of what people type, with errors that name the field in Chinese and English and
//! carry a stable code the UI reads (it never matches message text).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entity::{FieldSpec, FieldType};
use crate::recipient::Gender;

/// What is wrong with a value, independent of which field it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Invalid {
    #[error("is required")]
    Required,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("must be 18 characters")]
    IdNumberLength,
    #[error("must be 17 digits followed by a digit or X")]
    IdNumberCharacters,
    #[error("does not start with a known region code")]
    IdNumberRegion,
    #[error("does not contain a plausible date of birth")]
    IdNumberBirthDate,
    #[error("has a wrong check digit (expected {expected})")]
    IdNumberCheckDigit { expected: char },
    #[error("must be an 11-digit mobile number starting with 1")]
    Mobile,
    #[error("must be a date written YYYY-MM-DD")]
    Date,
    #[error("must not be in the future")]
    DateInFuture,
    #[error("must be a date and time")]
    DateTime,
    #[error("must be a whole number")]
    Integer,
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    #[error("must be an amount in yuan with at most two decimals")]
    Amount,
    #[error("must be between 0 and {} yuan", crate::money::format_fen(*max_fen))]
    AmountOutOfRange { max_fen: i64 },
    #[error("must be yes or no")]
    Bool,
    #[error("must be the id of a record")]
    Reference,
    #[error("is not one of the allowed values")]
    UnknownValue,
    #[error("must be hexadecimal")]
    Hex,
    #[error("does not match the resident ID number")]
    DisagreesWithIdNumber,
    #[error("cannot be changed once recorded")]
    Immutable,
    #[error("is not a field of this record")]
    UnknownField,
}

impl Invalid {
    /// The stable code the UI and the sync protocol use.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Required => "required",
            Invalid::TooLong { .. } => "too_long",
            Invalid::IdNumberLength => "id_number_length",
            Invalid::IdNumberCharacters => "id_number_characters",
            Invalid::IdNumberRegion => "id_number_region",
            Invalid::IdNumberBirthDate => "id_number_birth_date",
            Invalid::IdNumberCheckDigit { .. } => "id_number_check_digit",
            Invalid::Mobile => "mobile",
            Invalid::Date => "date",
            Invalid::DateInFuture => "date_in_future",
            Invalid::DateTime => "date_time",
            Invalid::Integer => "integer",
            Invalid::OutOfRange { .. } => "out_of_range",
            Invalid::Amount => "amount",
            Invalid::AmountOutOfRange { .. } => "amount_out_of_range",
            Invalid::Bool => "bool",
            Invalid::Reference => "reference",
            Invalid::UnknownValue => "unknown_value",
            Invalid::Hex => "hex",
            Invalid::DisagreesWithIdNumber => "disagrees_with_id_number",
            Invalid::Immutable => "immutable",
            Invalid::UnknownField => "unknown_field",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Invalid::Required => "必须填写".into(),
            Invalid::TooLong { max } => format!("不能超过{max}个字"),
            Invalid::IdNumberLength => "应为18位".into(),
            Invalid::IdNumberCharacters => "前17位应为数字，最后一位为数字或X".into(),
            Invalid::IdNumberRegion => "地区码无效".into(),
            Invalid::IdNumberBirthDate => "出生日期无效".into(),
            Invalid::IdNumberCheckDigit { expected } => format!("校验码错误（应为{expected}）"),
            Invalid::Mobile => "应为以1开头的11位手机号".into(),
            Invalid::Date => "应为日期，格式为 年-月-日".into(),
            Invalid::DateInFuture => "不能晚于今天".into(),
            Invalid::DateTime => "应为日期时间".into(),
            Invalid::Integer => "应为整数".into(),
            Invalid::OutOfRange { min, max } => format!("应在{min}到{max}之间"),
            Invalid::Amount => "应为金额（元），最多两位小数".into(),
            Invalid::AmountOutOfRange { max_fen } => format!("应在0到{}元之间", crate::money::format_fen(*max_fen)),
            Invalid::Bool => "应为是或否".into(),
            Invalid::Reference => "应为一条记录的编号".into(),
            Invalid::UnknownValue => "不是可选的值".into(),
            Invalid::Hex => "应为十六进制".into(),
            Invalid::DisagreesWithIdNumber => "与身份证号不符".into(),
            Invalid::Immutable => "记录后不能修改".into(),
            Invalid::UnknownField => "不是该记录的字段".into(),
        }
    }
}

/// A value rejected for one field: the field's name and labels, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field_zh}：{zh} / {field_en} {invalid}", zh = invalid.message_zh())]
pub struct FieldError {
    /// The field's name in code, SQL and the wire, e.g. `id_number`.
    pub field: String,
    pub field_zh: String,
    pub field_en: String,
    pub invalid: Invalid,
}

impl FieldError {
    pub fn new(spec: &FieldSpec, invalid: Invalid) -> Self {
        Self { field: spec.name.into(), field_zh: spec.zh.into(), field_en: spec.en.into(), invalid }
    }

    pub fn unknown(field: &str) -> Self {
        Self { field: field.into(), field_zh: field.into(), field_en: field.into(), invalid: Invalid::UnknownField }
    }

    pub fn code(&self) -> &'static str {
        self.invalid.code()
    }

    /// The message in the UI's language (`zh` or `en`).
    pub fn message(&self, lang: &str) -> String {
        if lang == "en" {
            format!("{} {}", self.field_en, self.invalid)
        } else {
            format!("{}{}", self.field_zh, self.invalid.message_zh())
        }
    }
}

/// What a valid resident ID number tells about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdNumberFacts {
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// Province-level codes (the first two digits) of GB/T 2260.
const PROVINCE_CODES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];
const CHECK_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The MOD 11-2 check character of the first 17 digits (GB 11643-1999).
pub fn id_number_check_char(first17: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.chars().zip(CHECK_WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    (first17.chars().count() == 17).then(|| CHECK_CHARS[(sum % 11) as usize])
}

/// Inputs longer than this many bytes are refused by the short-value validators (ID numbers,
/// mobile numbers, dates, ids) before any other work: a 10 MB string costs no more than a short one.
const SHORT_INPUT_MAX_BYTES: usize = 256;

/// Full-width digits (`０`–`９`, as a Chinese IME types them) read as their ASCII digits, and
/// `Ｘ`, `ｘ`, `x` as `X`; every other character is kept as it is.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (u32::from(c) - u32::from('０')) as u8),
        'x' | 'Ｘ' | 'ｘ' => 'X',
        _ => c,
    }
}

/// Validates a resident ID number (居民身份证号): 18 characters, a known region, a plausible
/// date of birth no later than `today`, and the MOD 11-2 check character (`x` read as `X`).
/// Returns the normalized number and what it says about its holder.
///
/// Surrounding white space (an ideographic space too) is dropped, and full-width digits and
/// `Ｘ` (as typed with a Chinese IME) read as their ASCII forms, so the normalized number is
/// always 17 ASCII digits and a digit or `X`. Any other character (letters, combining marks,
/// emoji) is refused with `id_number_characters`, or `id_number_length` when there are not 18
/// characters. Never panics, whatever the input.
pub fn resident_id_number(input: &str, today: NaiveDate) -> Result<(String, IdNumberFacts), Invalid> {
    if input.len() > SHORT_INPUT_MAX_BYTES {
        return Err(Invalid::IdNumberLength);
    }
    let normalized: String = input.trim().chars().map(half_width).collect();
    if normalized.chars().count() != 18 {
        return Err(Invalid::IdNumberLength);
    }
    // 18 characters; once all are ASCII, byte positions are character positions.
    let bytes = normalized.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(Invalid::IdNumberCharacters);
    }
    let first17 = normalized.get(..17).ok_or(Invalid::IdNumberCharacters)?;
    let last = bytes[17];
    let province: u32 = first17.get(..2).and_then(|p| p.parse().ok()).ok_or(Invalid::IdNumberCharacters)?;
    if !PROVINCE_CODES.contains(&province) || first17.get(2..6) == Some("0000") {
        return Err(Invalid::IdNumberRegion);
    }
    let birth = first17.get(6..14).ok_or(Invalid::IdNumberCharacters)?;
    let birth_date = NaiveDate::parse_from_str(birth, "%Y%m%d").map_err(|_| Invalid::IdNumberBirthDate)?;
    if birth_date.year() < 1890 || birth_date > today {
        return Err(Invalid::IdNumberBirthDate);
    }
    let expected = id_number_check_char(first17).ok_or(Invalid::IdNumberCharacters)?;
    if char::from(last) != expected {
        return Err(Invalid::IdNumberCheckDigit { expected });
    }
    let sequence_digit = bytes[16] - b'0';
    let gender = if sequence_digit % 2 == 1 { Gender::Male } else { Gender::Female };
    Ok((normalized, IdNumberFacts { birth_date, gender }))
}

/// Validates a mainland mobile number: 11 digits, `1` then `3`–`9`. Spaces (an ideographic space
/// too) and dashes (a full-width one too) are dropped and full-width digits read as ASCII ones,
/// so the normalized number is 11 ASCII digits. Never panics, whatever the input.
pub fn mobile_number(input: &str) -> Result<String, Invalid> {
    if input.len() > SHORT_INPUT_MAX_BYTES {
        return Err(Invalid::Mobile);
    }
    let digits: String =
        input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}' | '－')).map(half_width).collect();
    let bytes = digits.as_bytes();
    let ok = bytes.len() == 11
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1]);
    if ok { Ok(digits) } else { Err(Invalid::Mobile) }
}

/// Validates one field's value against its spec and returns it normalized: text trimmed, empty
/// optional values as `null`, ID numbers upper-case, enum sets sorted in vocabulary order.
pub fn normalize_field(spec: &FieldSpec, value: &Value, today: NaiveDate) -> Result<Value, FieldError> {
    let err = |invalid| FieldError::new(spec, invalid);
    let is_empty = match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    if is_empty {
        return if spec.required { Err(err(Invalid::Required)) } else { Ok(Value::Null) };
    }
    let text = || value.as_str().map(str::trim).ok_or(err(Invalid::UnknownValue));
    let normalized = match spec.ty {
        FieldType::Text { max_chars } => {
            let s = value.as_str().map(str::trim).ok_or(err(Invalid::TooLong { max: max_chars }))?;
            // A character is at most 4 bytes: more bytes than that are too long without counting.
            if s.len() > max_chars.saturating_mul(4) || s.chars().count() > max_chars {
                return Err(err(Invalid::TooLong { max: max_chars }));
            }
            Value::String(s.into())
        }
        FieldType::PersonName => {
            let s = value.as_str().map(str::trim).ok_or(err(Invalid::Required))?;
            if s.len() > 50 * 4 || s.chars().count() > 50 {
                return Err(err(Invalid::TooLong { max: 50 }));
            }
            Value::String(s.into())
        }
        FieldType::IdNumber => {
            let s = value.as_str().ok_or(err(Invalid::IdNumberCharacters))?;
            let (normalized, _) = resident_id_number(s, today).map_err(err)?;
            Value::String(normalized)
        }
        FieldType::Mobile => {
            let s = value.as_str().ok_or(err(Invalid::Mobile))?;
            Value::String(mobile_number(s).map_err(err)?)
        }
        FieldType::Date { not_future } => {
            let s = value.as_str().map(str::trim).ok_or(err(Invalid::Date))?;
            if s.len() > SHORT_INPUT_MAX_BYTES {
                return Err(err(Invalid::Date));
            }
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| err(Invalid::Date))?;
            // Four-digit years only, so stored dates sort as text.
            if !(1..=9999).contains(&date.year()) {
                return Err(err(Invalid::Date));
            }
            if not_future && date > today {
                return Err(err(Invalid::DateInFuture));
            }
            Value::String(date.format("%Y-%m-%d").to_string())
        }
        FieldType::DateTime => {
            let s = value.as_str().ok_or(err(Invalid::DateTime))?;
            if s.len() > SHORT_INPUT_MAX_BYTES {
                return Err(err(Invalid::DateTime));
            }
            let at = DateTime::parse_from_rfc3339(s.trim()).map_err(|_| err(Invalid::DateTime))?.with_timezone(&Utc);
            // In UTC the instant must still be a four-digit year, so its text reads back.
            if !(1..=9999).contains(&at.year()) {
                return Err(err(Invalid::DateTime));
            }
            Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        FieldType::Integer { min, max } => {
            let n = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) if s.len() <= SHORT_INPUT_MAX_BYTES => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or(err(Invalid::Integer))?;
            if n < min || n > max {
                return Err(err(Invalid::OutOfRange { min, max }));
            }
            Value::from(n)
        }
        FieldType::Money { max_fen } => {
            // Fen arrive as a number (stored values, the wire), yuan as typed text (forms).
            let fen = match value {
                Value::Number(n) => n.as_i64().ok_or(err(Invalid::Amount))?,
                Value::String(s) => crate::money::parse_yuan(s, max_fen).map_err(|e| match e {
                    crate::money::AmountError::NotAnAmount => err(Invalid::Amount),
                    crate::money::AmountError::OutOfRange => err(Invalid::AmountOutOfRange { max_fen }),
                })?,
                _ => return Err(err(Invalid::Amount)),
            };
            if !(0..=max_fen).contains(&fen) {
                return Err(err(Invalid::AmountOutOfRange { max_fen }));
            }
            Value::from(fen)
        }
        FieldType::Bool => Value::Bool(value.as_bool().ok_or(err(Invalid::Bool))?),
        FieldType::Ref(_) => {
            let s = value.as_str().map(str::trim).ok_or(err(Invalid::Reference))?;
            if s.len() > SHORT_INPUT_MAX_BYTES {
                return Err(err(Invalid::Reference));
            }
            let id = crate::Id::try_parse(s).map_err(|_| err(Invalid::Reference))?;
            Value::String(id.to_string())
        }
        FieldType::RefList(_) => {
            let items = value.as_array().ok_or(err(Invalid::Reference))?;
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                let id = item.as_str().and_then(|s| crate::Id::try_parse(s).ok()).ok_or(err(Invalid::Reference))?;
                ids.push(id.to_string());
            }
            ids.sort();
            ids.dedup();
            Value::from(ids)
        }
        FieldType::Enum(allowed) => {
            let s = text()?;
            if !allowed.contains(&s) {
                return Err(err(Invalid::UnknownValue));
            }
            Value::String(s.into())
        }
        FieldType::EnumSet(allowed) => {
            let items = value.as_array().ok_or(err(Invalid::UnknownValue))?;
            let mut positions = Vec::with_capacity(items.len());
            for item in items {
                let position = item
                    .as_str()
                    .and_then(|s| allowed.iter().position(|a| *a == s))
                    .ok_or(err(Invalid::UnknownValue))?;
                positions.push(position);
            }
            positions.sort_unstable();
            positions.dedup();
            Value::from(positions.into_iter().map(|p| allowed[p]).collect::<Vec<_>>())
        }
        FieldType::Hex { max_chars } => {
            let s = text()?;
            if s.len() > max_chars {
                return Err(err(Invalid::TooLong { max: max_chars }));
            }
            let s = s.to_ascii_lowercase();
            if !s.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(err(Invalid::Hex));
            }
            Value::String(s)
        }
        FieldType::HexList => {
            let items = value.as_array().ok_or(err(Invalid::Hex))?;
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or(err(Invalid::Hex))?.trim();
                if s.is_empty() || s.len() > 128 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(err(Invalid::Hex));
                }
                keys.push(s.to_ascii_lowercase());
            }
            keys.sort();
            keys.dedup();
            Value::from(keys)
        }
    };
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
    }

    /// Real-form examples: numbers as people write them, valid and not.
    #[test]
    fn resident_id_numbers() {
        type Expected<'a> = Result<(&'a str, &'a str, Gender), &'a str>;
        let cases: &[(&str, Expected)] = &[
            ("11010519491231002X", Ok(("11010519491231002X", "1949-12-31", Gender::Female))),
            ("11010519491231002x", Ok(("11010519491231002X", "1949-12-31", Gender::Female))),
            (" 440524195801010018 ", Ok(("440524195801010018", "1958-01-01", Gender::Male))),
            ("110105194912310021", Err("id_number_check_digit")),
            ("11010519491231002", Err("id_number_length")),
            ("510129201007043126", Ok(("510129201007043126", "2010-07-04", Gender::Female))),
            ("1101051949123100211", Err("id_number_length")),
            ("11010519491231002Y", Err("id_number_characters")),
            ("1101051949I231002X", Err("id_number_characters")),
            ("990105194912310021", Err("id_number_region")),
            ("110000194912310021", Err("id_number_region")),
            ("110105194902300021", Err("id_number_birth_date")),
            ("110105203001010021", Err("id_number_birth_date")),
            ("", Err("id_number_length")),
        ];
        for (input, expected) in cases {
            let got = resident_id_number(input, today());
            match (got, expected) {
                (Ok((n, facts)), Ok((en, eb, eg))) => {
                    assert_eq!(&n, en, "{input}");
                    assert_eq!(facts.birth_date.to_string(), *eb, "{input}");
                    assert_eq!(facts.gender, *eg, "{input}");
                }
                (Err(e), Err(code)) => assert_eq!(e.code(), *code, "{input}"),
                (got, expected) => panic!("{input}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn the_check_digit_matches_the_standard_example() {
        // GB 11643-1999 appendix example: 11010519491231002X.
        assert_eq!(id_number_check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn mobile_numbers() {
        let cases = [
            ("13800138000", Some("13800138000")),
            ("138 0013 8000", Some("13800138000")),
            ("138-0013-8000", Some("13800138000")),
            ("19912345678", Some("19912345678")),
            ("12800138000", None),
            ("1380013800", None),
            ("138001380001", None),
            ("23800138000", None),
            ("1380013800a", None),
            ("+8613800138000", None),
        ];
        for (input, expected) in cases {
            assert_eq!(mobile_number(input).ok().as_deref(), expected, "{input}");
        }
    }

    fn spec(ty: FieldType, required: bool) -> FieldSpec {
        FieldSpec { name: "x", zh: "某字段", en: "some field", ty, required, mutable: true }
    }

    #[test]
    fn required_fields_reject_blank_values_and_optional_ones_store_null() {
        let text = FieldType::Text { max_chars: 10 };
        assert_eq!(
            normalize_field(&spec(text, true), &Value::from("   "), today()).map_err(|e| e.invalid),
            Err(Invalid::Required)
        );
        assert_eq!(normalize_field(&spec(text, false), &Value::from(""), today()), Ok(Value::Null));
        assert_eq!(normalize_field(&spec(text, true), &Value::from(" 张三 "), today()), Ok(Value::from("张三")));
    }

    #[test]
    fn text_length_is_counted_in_characters_not_bytes() {
        let ty = FieldType::Text { max_chars: 4 };
        assert!(normalize_field(&spec(ty, true), &Value::from("留守儿童"), today()).is_ok());
        assert_eq!(
            normalize_field(&spec(ty, true), &Value::from("留守儿童们"), today()).map_err(|e| e.invalid),
            Err(Invalid::TooLong { max: 4 })
        );
    }

    #[test]
    fn dates_in_the_future_are_rejected_where_the_field_says_so() {
        let past = spec(FieldType::Date { not_future: true }, true);
        let any = spec(FieldType::Date { not_future: false }, true);
        assert!(normalize_field(&past, &Value::from("2026-11-25"), today()).is_ok());
        assert_eq!(
            normalize_field(&past, &Value::from("2026-11-26"), today()).map_err(|e| e.invalid),
            Err(Invalid::DateInFuture)
        );
        assert!(normalize_field(&any, &Value::from("2027-03-01"), today()).is_ok());
        assert_eq!(
            normalize_field(&any, &Value::from("2027/03/01"), today()).map_err(|e| e.invalid),
            Err(Invalid::Date)
        );
    }

    #[test]
    fn enum_sets_are_sorted_in_vocabulary_order_and_deduplicated() {
        let ty = FieldType::EnumSet(&["A", "B", "C"]);
        assert_eq!(
            normalize_field(&spec(ty, true), &serde_json::json!(["C", "A", "C"]), today()),
            Ok(serde_json::json!(["A", "C"]))
        );
        assert!(normalize_field(&spec(ty, true), &serde_json::json!(["D"]), today()).is_err());
        assert_eq!(
            normalize_field(&spec(ty, true), &serde_json::json!([]), today()).map_err(|e| e.invalid),
            Err(Invalid::Required)
        );
    }

    #[test]
    fn dates_outside_four_digit_years_are_refused() {
        let any = spec(FieldType::Date { not_future: false }, true);
        for input in ["+12345-01-01", "12345-01-01", "-0001-01-01", "0000-01-01"] {
            assert_eq!(
                normalize_field(&any, &Value::from(input), today()).map_err(|e| e.invalid),
                Err(Invalid::Date),
                "{input}"
            );
        }
        assert_eq!(normalize_field(&any, &Value::from("9999-12-31"), today()), Ok(Value::from("9999-12-31")));
    }

    #[test]
    fn money_is_typed_in_yuan_and_kept_in_whole_fen() {
        let money = spec(FieldType::Money { max_fen: 1_000_000 }, false);
        let check = |value: Value| normalize_field(&money, &value, today()).map_err(|e| e.code());
        assert_eq!(check(Value::from("1,200.5")), Ok(Value::from(120_050)));
        assert_eq!(check(Value::from(120_050)), Ok(Value::from(120_050)), "stored fen read back as they are");
        assert_eq!(check(Value::from("")), Ok(Value::Null));
        assert_eq!(check(Value::from("12.345")), Err("amount"));
        assert_eq!(check(Value::from(1.5)), Err("amount"), "never a float");
        assert_eq!(check(Value::from("10000.01")), Err("amount_out_of_range"));
        assert_eq!(check(Value::from(-1)), Err("amount_out_of_range"));
        let e = FieldError::new(&money, Invalid::AmountOutOfRange { max_fen: 1_000_000 });
        assert!(e.message("zh").contains("10000元") && e.message("en").contains("10000 yuan"), "{e}");
    }

    #[test]
    fn errors_name_the_field_in_both_languages() {
        let e = FieldError::new(&spec(FieldType::Mobile, true), Invalid::Mobile);
        assert_eq!(e.code(), "mobile");
        assert!(e.message("zh").starts_with("某字段"));
        assert!(e.message("en").starts_with("some field"));
        let both = e.to_string();
        assert!(both.contains("某字段") && both.contains("some field"), "{both}");
    }
}
