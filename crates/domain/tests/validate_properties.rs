//! Validation never panics, whatever people type or a modified client sends, and what it accepts
//! is already normalized: validating the normalized value again gives it back unchanged.
//!
//! Runs every `validate::*` function and `normalize_field` for every field of every entity kind
//! (so every `FieldType` in use) over arbitrary Unicode, targeted strings (digits mixed with
//! multibyte characters, 17–19 random characters) and arbitrary JSON values.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use domain::Labelled;
use domain::entity::{EntityKind, FieldSpec, FieldType};
use domain::validate::{self, Invalid};
use proptest::prelude::*;
use serde_json::Value;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

/// Every field of every kind, and one spec of each field type besides.
fn every_field() -> Vec<FieldSpec> {
    let mut fields: Vec<FieldSpec> = EntityKind::ALL.iter().flat_map(|k| k.spec().fields.iter().copied()).collect();
    let extra = [
        FieldType::Text { max_chars: 0 },
        FieldType::Text { max_chars: 3 },
        FieldType::Integer { min: i64::MIN, max: i64::MAX },
        FieldType::Money { max_fen: i64::MAX },
        FieldType::Hex { max_chars: 4 },
        FieldType::Date { not_future: false },
    ];
    for (required, ty) in extra.into_iter().flat_map(|ty| [(true, ty), (false, ty)]) {
        fields.push(FieldSpec { name: "x", zh: "某字段", en: "some field", ty, required, mutable: true });
    }
    fields
}

/// Characters that trip up byte/character confusions: ASCII digits and `X`, full-width ones,
/// CJK, a letter whose upper case is longer (`ß`), emoji, combining marks, odd white space.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('0', '9'),
        1 => Just('X'),
        1 => Just('x'),
        2 => proptest::char::range('０', '９'),
        1 => Just('Ｘ'),
        1 => Just('中'),
        1 => Just('ß'),
        1 => Just('ǅ'),
        1 => Just('😀'),
        1 => Just('\u{301}'),
        1 => Just('\u{3000}'),
        1 => Just(' '),
        1 => Just('-'),
        1 => any::<char>(),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..25).prop_map(|cs| cs.into_iter().collect())
}

/// Strings of every kind the properties run over.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,200}",
        tricky_string(),
        "(?s).{17,19}",
        // Nearly valid: a real number with one character swapped for something odd.
        (0usize..18, tricky_char()).prop_map(|(i, c)| {
            let mut chars: Vec<char> = "11010519491231002X".chars().collect();
            chars[i] = c;
            chars.into_iter().collect()
        }),
        "[+-]?[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}",
        "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        "[0-9a-fA-F]{0,70}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_text().prop_map(Value::String),
        proptest::sample::select(every_enum_name()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every name of every closed vocabulary, so enum fields are sometimes valid.
fn every_enum_name() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = every_field()
        .iter()
        .flat_map(|f| match f.ty {
            FieldType::Enum(names) | FieldType::EnumSet(names) => names.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn check_id_number(input: &str) -> Result<(), TestCaseError> {
    if let Ok((normalized, facts)) = validate::resident_id_number(input, today()) {
        prop_assert_eq!(normalized.len(), 18);
        prop_assert!(normalized.bytes().all(|b| b.is_ascii_digit() || b == b'X'), "{}", normalized);
        prop_assert_eq!(validate::resident_id_number(&normalized, today()), Ok((normalized.clone(), facts)));
    }
    Ok(())
}

fn check_mobile(input: &str) -> Result<(), TestCaseError> {
    if let Ok(normalized) = validate::mobile_number(input) {
        prop_assert!(normalized.len() == 11 && normalized.bytes().all(|b| b.is_ascii_digit()), "{}", normalized);
        prop_assert_eq!(validate::mobile_number(&normalized), Ok(normalized.clone()));
    }
    Ok(())
}

fn check_every_field(value: &Value) -> Result<(), TestCaseError> {
    for spec in every_field() {
        if let Ok(normalized) = validate::normalize_field(&spec, value, today()) {
            prop_assert_eq!(
                validate::normalize_field(&spec, &normalized, today()),
                Ok(normalized.clone()),
                "{:?} of {:?}",
                spec.ty,
                value
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn resident_id_number_never_panics_and_accepts_only_normalized_numbers(input in any_text()) {
        check_id_number(&input)?;
        let _ = validate::id_number_check_char(&input);
    }

    #[test]
    fn mobile_number_never_panics_and_accepts_only_normalized_numbers(input in any_text()) {
        check_mobile(&input)?;
    }

    #[test]
    fn every_field_type_normalizes_any_text_without_panicking_and_idempotently(input in any_text()) {
        check_every_field(&Value::String(input))?;
    }

    #[test]
    fn every_field_type_normalizes_any_json_without_panicking_and_idempotently(value in any_json()) {
        check_every_field(&value)?;
    }

    /// Reading any stored state as its typed struct gives a value or an error.
    #[test]
    fn any_state_reads_as_typed_or_fails_without_panicking(
        kind in proptest::sample::select(EntityKind::ALL.to_vec()),
        values in proptest::collection::vec(any_json(), 0..12),
    ) {
        use domain::entity::{EntityState, FieldClock};
        use domain::hlc::Hlc;
        let fields = kind.spec().fields.iter().zip(values).map(|(f, v)| (f.name.to_owned(), v)).collect();
        let device = domain::Id::from_u128(1);
        let created = FieldClock { hlc: Hlc::new(1, 0, device), base: None, author: device };
        let state = EntityState { kind, id: device, fields, created, clocks: Default::default() };
        let _ = state.to_typed::<domain::case::Case>();
        let _ = state.to_typed::<domain::case::ClosureDecision>();
        let _ = state.to_typed::<domain::org::User>();
        let _ = state.to_typed::<domain::recipient::Recipient>();
        let _ = state.to_typed::<Value>();
        let _ = state.station_ids();
        let _ = state.digest();
    }

    /// Labels of closed vocabularies: parsing any text is a plain lookup.
    #[test]
    fn vocabulary_names_parse_only_as_themselves(input in any_text()) {
        if let Some(kind) = EntityKind::parse(&input) {
            prop_assert_eq!(kind.as_str(), input.as_str());
        }
        if let Some(stage) = domain::case::Stage::parse(&input) {
            prop_assert_eq!(stage.as_str(), input.as_str());
        }
    }
}

#[test]
fn full_width_digits_typed_with_a_chinese_ime_read_as_ascii_digits() {
    let (number, _) =
        validate::resident_id_number("１１０１０５１９４９１２３１００２Ｘ", today()).expect("full-width");
    assert_eq!(number, "11010519491231002X");
    let (number, _) = validate::resident_id_number("\u{3000}１１０１０５１９４９１２３１００２ｘ\u{3000}", today())
        .expect("ideographic spaces");
    assert_eq!(number, "11010519491231002X");
    assert_eq!(validate::mobile_number("１３８－００１３－８０００").as_deref(), Ok("13800138000"));
}

#[test]
fn an_id_number_with_a_multibyte_character_among_its_digits_is_refused_as_characters() {
    for input in
        ["1101051949123100中X", "11010519491231002😀", "1101051949123100ßX", "1101051949123100ǅX", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"]
    {
        assert_eq!(
            validate::resident_id_number(input, today()).map(|_| ()),
            Err(Invalid::IdNumberCharacters),
            "{input}"
        );
    }
}

#[test]
fn an_id_number_with_a_combining_mark_has_the_wrong_length() {
    assert_eq!(
        validate::resident_id_number("11010519491231002X\u{301}", today()).map(|_| ()),
        Err(Invalid::IdNumberLength)
    );
    // `ß` upper-cases to two letters; it is a character of its own here, never `SS`.
    assert_eq!(validate::resident_id_number("1101051949123100ß", today()).map(|_| ()), Err(Invalid::IdNumberLength));
}

#[test]
fn ten_megabyte_inputs_are_refused_quickly() {
    let huge = "1".repeat(10 * 1024 * 1024);
    let huge_cjk = "中".repeat(4 * 1024 * 1024);
    let start = Instant::now();
    for text in [&huge, &huge_cjk] {
        assert_eq!(validate::resident_id_number(text, today()).map(|_| ()), Err(Invalid::IdNumberLength));
        assert_eq!(validate::mobile_number(text), Err(Invalid::Mobile));
        let value = Value::String(text.clone());
        for spec in every_field() {
            assert!(validate::normalize_field(&spec, &value, today()).is_err(), "{:?}", spec.ty);
        }
    }
    // Each field type bails out on the length; a generous bound for a debug build on a busy machine.
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
}
