//! The state of a form driven by an entity's field specs: what was typed in each field (never
//! changed by validation), the field's check by `domain::validate::normalize_field` after every
//! edit, which errors to show, and the normalized values once everything is valid. Pure: the
//! [`SpecForm`](crate::components::spec_form::SpecForm) component renders it, the host tests it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use contract::{CommandError, FieldValues, Language, sentence};
use domain::Labelled;
use domain::entity::{FieldSpec, FieldType};
use domain::validate::{FieldError, Invalid, normalize_field};
use serde_json::Value;
use uuid::Uuid;

/// What the user has put in a field, exactly as typed or picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Text boxes, text areas, dates, numbers and single choices (`""`: nothing chosen).
    Text(String),
    /// The ticked values of a set of checkboxes, in the order ticked.
    Choices(Vec<String>),
    /// A single checkbox.
    Flag(bool),
}

impl Input {
    /// The empty input of a field of type `ty`.
    pub fn empty(ty: FieldType) -> Input {
        match ty {
            FieldType::EnumSet(_) | FieldType::RefList(_) | FieldType::HexList => Input::Choices(Vec::new()),
            FieldType::Bool => Input::Flag(false),
            _ => Input::Text(String::new()),
        }
    }

    /// The input a stored value puts in a field of type `ty` (an edit form's starting values):
    /// text as it is, numbers as text, lists as the ticked choices, booleans as the flag. A value
    /// of an unexpected shape becomes text the field's check then refuses, never a panic.
    pub fn from_value(ty: FieldType, value: &Value) -> Input {
        match (Input::empty(ty), value) {
            (_, Value::Null) => Input::empty(ty),
            (Input::Choices(_), Value::Array(items)) => {
                Input::Choices(items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect())
            }
            (Input::Flag(_), Value::Bool(flag)) => Input::Flag(*flag),
            (Input::Flag(_), _) => Input::Flag(false),
            (Input::Choices(_), Value::String(one)) => Input::Choices(vec![one.clone()]),
            (Input::Choices(_), other) => Input::Choices(vec![other.to_string()]),
            // Amounts are stored in fen and typed in yuan.
            (_, Value::Number(fen)) if matches!(ty, FieldType::Money { .. }) => match fen.as_i64() {
                Some(fen) => Input::Text(domain::money::format_fen(fen)),
                None => Input::Text(fen.to_string()),
            },
            (_, Value::String(text)) => Input::Text(text.clone()),
            (_, other) => Input::Text(other.to_string()),
        }
    }

    /// The input as the JSON value the validators read.
    fn to_json(&self) -> Value {
        match self {
            Input::Text(text) => Value::from(text.as_str()),
            Input::Choices(values) => Value::from(values.clone()),
            Input::Flag(flag) => Value::Bool(*flag),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Input::Text(text) => text,
            _ => "",
        }
    }

    pub fn has(&self, choice: &str) -> bool {
        matches!(self, Input::Choices(values) if values.iter().any(|v| v == choice))
    }

    pub fn flag(&self) -> bool {
        matches!(self, Input::Flag(true))
    }
}

/// A field's error as shown: its code, and its message in both languages (English as a sentence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownError {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl ShownError {
    pub fn message(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

impl From<&FieldError> for ShownError {
    fn from(e: &FieldError) -> Self {
        Self { code: e.code().into(), zh: e.message("zh"), en: sentence(&e.message("en")) }
    }
}

impl From<&CommandError> for ShownError {
    fn from(e: &CommandError) -> Self {
        Self { code: e.code.clone(), zh: e.message_zh.clone(), en: e.message_en.clone() }
    }
}

/// The id of a field's control (and its label's `for`): the field's name, except that a
/// reference field is named after what it picks (`village_id` → `village`). Its error is
/// `error-<field name>`, its hint `hint-<field name>`.
pub fn control_id(spec: &FieldSpec) -> String {
    match spec.ty {
        FieldType::Ref(_) => spec.name.strip_suffix("_id").unwrap_or(spec.name).to_string(),
        _ => spec.name.to_string(),
    }
}

/// The id of one checkbox of a set: what one item of the field is called, then its value
/// (`categories`, `Dibao` → `category-Dibao`).
pub fn choice_id(spec: &FieldSpec, value: &str) -> String {
    let name = spec.name;
    let one = match name.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => name.strip_suffix('s').unwrap_or(name).to_string(),
    };
    format!("{one}-{value}")
}

/// Errors that typing on cannot cure are shown at once; the others (a half-typed ID number is
/// "not 18 characters") only once the user has left the field or tried to save.
fn shows_while_typing(invalid: &Invalid) -> bool {
    !matches!(
        invalid,
        Invalid::Required
            | Invalid::IdNumberLength
            | Invalid::Mobile
            | Invalid::Date
            | Invalid::DateTime
            | Invalid::Integer
            | Invalid::OutOfRange { .. }
            | Invalid::Amount
    )
}

#[derive(Debug, Clone)]
struct Field {
    spec: &'static FieldSpec,
    input: Input,
    check: Result<Value, FieldError>,
    /// Left at least once (or the form was submitted): every error of the field shows.
    touched: bool,
}

/// The normalized values of a valid form, by field name. Empty optional fields are `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(BTreeMap<&'static str, Value>);

impl Values {
    pub fn get(&self, field: &str) -> &Value {
        self.0.get(field).unwrap_or(&Value::Null)
    }

    /// A text field's value; `""` when empty.
    pub fn text(&self, field: &str) -> String {
        self.get(field).as_str().unwrap_or_default().to_string()
    }

    /// The values as a command's `FieldValues` (field name → JSON value), every field of the
    /// form included (an update writes only those that change).
    pub fn field_values(&self) -> FieldValues {
        self.0.iter().map(|(name, value)| ((*name).to_string(), value.clone())).collect()
    }

    /// A yes/no field's value; `false` when empty.
    pub fn flag(&self, field: &str) -> bool {
        self.get(field).as_bool().unwrap_or(false)
    }

    /// A date field's value, when it holds one.
    pub fn date(&self, field: &str) -> Option<NaiveDate> {
        self.get(field).as_str().and_then(|s| s.parse().ok())
    }

    /// A reference field's id.
    pub fn id(&self, field: &str) -> Option<Uuid> {
        self.get(field).as_str().and_then(|s| Uuid::try_parse(s).ok())
    }

    /// The values of an enum-set field, in vocabulary order.
    pub fn set_of<T: Labelled>(&self, field: &str) -> Vec<T> {
        let items = self.get(field).as_array().map(Vec::as_slice).unwrap_or_default();
        items.iter().filter_map(|v| v.as_str().and_then(T::parse)).collect()
    }
}

/// A form over some fields of one entity kind.
#[derive(Debug, Clone)]
pub struct FormState {
    fields: Vec<Field>,
    today: NaiveDate,
    /// The last error of the command the form was sent with, and the fields edited since.
    command_error: Option<CommandError>,
    edited_since_command_error: BTreeSet<&'static str>,
    /// Whether the last save found invalid fields (the form says so above its buttons).
    refused: bool,
}

impl FormState {
    /// An empty form over `fields`, validated against `today` (dates of birth, visit dates). The
    /// forms themselves start from [`FormState::with_initial`].
    #[cfg(test)]
    pub fn new(fields: &[&'static FieldSpec], today: NaiveDate) -> Self {
        Self::with_initial(fields, today, &FieldValues::new())
    }

    /// A form over `fields` starting from `initial` (a record's stored values, by field name;
    /// fields it lacks start empty). Nothing shows as an error until the user edits or leaves
    /// a field, or saves.
    pub fn with_initial(fields: &[&'static FieldSpec], today: NaiveDate, initial: &FieldValues) -> Self {
        let fields = fields
            .iter()
            .map(|spec| {
                let input =
                    initial.get(spec.name).map_or_else(|| Input::empty(spec.ty), |v| Input::from_value(spec.ty, v));
                let check = normalize_field(spec, &input.to_json(), today);
                Field { spec, input, check, touched: false }
            })
            .collect();
        Self { fields, today, command_error: None, edited_since_command_error: BTreeSet::new(), refused: false }
    }

    pub fn specs(&self) -> impl Iterator<Item = &'static FieldSpec> + '_ {
        self.fields.iter().map(|f| f.spec)
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.spec.name == name)
    }

    pub fn input(&self, name: &str) -> Option<&Input> {
        self.field(name).map(|f| &f.input)
    }

    /// Puts what the user typed or picked into a field, and checks it.
    pub fn set(&mut self, name: &str, input: Input) {
        let today = self.today;
        if let Some(field) = self.fields.iter_mut().find(|f| f.spec.name == name) {
            field.check = normalize_field(field.spec, &input.to_json(), today);
            field.input = input;
            self.edited_since_command_error.insert(field.spec.name);
        }
    }

    /// Ticks or unticks one value of a set of checkboxes.
    pub fn toggle(&mut self, name: &str, choice: &str, on: bool) {
        let mut values = match self.input(name) {
            Some(Input::Choices(values)) => values.clone(),
            _ => Vec::new(),
        };
        values.retain(|v| v != choice);
        if on {
            values.push(choice.to_string());
        }
        self.set(name, Input::Choices(values));
    }

    /// The user left a field: from now on all its errors show.
    pub fn leave(&mut self, name: &str) {
        if let Some(field) = self.fields.iter_mut().find(|f| f.spec.name == name) {
            field.touched = true;
        }
    }

    /// The error to show at a field, if any: the command's error about it until the field is
    /// edited, else the field's own check.
    pub fn error(&self, name: &str) -> Option<ShownError> {
        let field = self.field(name)?;
        if let Some(e) = &self.command_error
            && e.field.as_deref() == Some(name)
            && !self.edited_since_command_error.contains(field.spec.name)
        {
            return Some(e.into());
        }
        match &field.check {
            Err(e) if field.touched || shows_while_typing(&e.invalid) => Some(e.into()),
            _ => None,
        }
    }

    /// The error about the form as a whole: the command's, when it is about no field of the
    /// form; `None` when the caller should say "correct the marked fields" instead
    /// ([`FormState::refused`]).
    pub fn form_error(&self) -> Option<&CommandError> {
        let e = self.command_error.as_ref()?;
        let about_a_field = e.field.as_deref().is_some_and(|f| self.field(f).is_some());
        (!about_a_field).then_some(e)
    }

    /// Whether the form was refused for invalid fields (by the last save, or by the command).
    pub fn refused(&self) -> bool {
        self.refused || (self.command_error.is_some() && self.form_error().is_none())
    }

    /// The user asks to save: every error shows, and the normalized values come back when all
    /// fields are valid.
    pub fn submit(&mut self) -> Option<Values> {
        for field in &mut self.fields {
            field.touched = true;
        }
        let values: Option<BTreeMap<_, _>> =
            self.fields.iter().map(|f| f.check.as_ref().ok().map(|v| (f.spec.name, v.clone()))).collect();
        self.refused = values.is_none();
        values.map(Values)
    }

    /// The command the form was sent with failed: its error shows at its field (until that
    /// field is edited) or above the buttons. `None` clears it.
    pub fn command_failed(&mut self, error: Option<CommandError>) {
        self.command_error = error;
        self.edited_since_command_error.clear();
        self.refused = false;
    }
}

#[cfg(test)]
mod tests {
    use domain::entity::RECIPIENT;
    use domain::field::{self, recipient};
    use domain::recipient::RecipientCategory;
    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date")
    }

    fn spec(name: &str) -> &'static FieldSpec {
        RECIPIENT.field(name).expect("a recipient field")
    }

    const FIELDS: [&str; 5] =
        [recipient::NAME, recipient::ID_NUMBER, recipient::CATEGORIES, recipient::VILLAGE_ID, recipient::PHONE];

    fn recipient_form() -> FormState {
        FormState::new(&FIELDS.map(spec), today())
    }

    const VILLAGE: &str = "0190e3a1-7f5c-7c3e-9a4b-1f2e3d4c5b6a";

    fn fill_valid(form: &mut FormState) {
        form.set(recipient::NAME, Input::Text(" 王测试 ".into()));
        form.set(recipient::ID_NUMBER, Input::Text("４４０５２４１９５８０１０１００１８".into()));
        form.toggle(recipient::CATEGORIES, "VulnerableElderly", true);
        form.toggle(recipient::CATEGORIES, "Dibao", true);
        form.set(recipient::VILLAGE_ID, Input::Text(VILLAGE.into()));
    }

    /// The ids the end-to-end tests and labels rely on.
    #[test]
    fn controls_are_named_after_what_they_hold() {
        let ids: Vec<String> = recipient_form().specs().map(control_id).collect();
        assert_eq!(ids, ["name", "id_number", "categories", "village", "phone"]);
        assert_eq!(choice_id(spec(recipient::CATEGORIES), "Dibao"), "category-Dibao");
        let station_ids = FieldSpec { name: field::user::SUPERVISED_STATION_IDS, ..*spec(recipient::CATEGORIES) };
        assert_eq!(choice_id(&station_ids, "x"), "supervised_station_id-x");
    }

    /// (what is typed into the ID number, the error code shown while typing, after leaving it)
    #[test]
    fn errors_show_while_typing_only_when_typing_on_cannot_cure_them() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("", None, Some("required")),
            ("4405241958", None, Some("id_number_length")),
            ("440524195801010018", None, None),
            ("440524195801010019", Some("id_number_check_digit"), Some("id_number_check_digit")),
            ("44052419580101001Y", Some("id_number_characters"), Some("id_number_characters")),
            ("４４０５２４１９５８０１０１００１８", None, None),
            ("😀😀😀", None, Some("id_number_length")),
        ];
        for (typed, while_typing, after_leaving) in cases {
            let mut form = recipient_form();
            form.set(recipient::ID_NUMBER, Input::Text((*typed).into()));
            assert_eq!(
                form.error(recipient::ID_NUMBER).map(|e| e.code),
                while_typing.map(String::from),
                "typing {typed:?}"
            );
            form.leave(recipient::ID_NUMBER);
            assert_eq!(
                form.error(recipient::ID_NUMBER).map(|e| e.code),
                after_leaving.map(String::from),
                "left {typed:?}"
            );
            assert_eq!(form.input(recipient::ID_NUMBER), Some(&Input::Text((*typed).into())), "kept {typed:?}");
        }
    }

    #[test]
    fn a_pasted_long_text_is_refused_at_once_and_kept() {
        let mut form = recipient_form();
        let long = "张".repeat(10_000);
        form.set(recipient::NAME, Input::Text(long.clone()));
        let error = form.error(recipient::NAME).expect("too long");
        assert_eq!(error.code, "too_long");
        assert!(error.zh.starts_with("姓名"), "{}", error.zh);
        assert!(error.en.starts_with("Name is longer than 50"), "{}", error.en);
        assert_eq!(form.input(recipient::NAME), Some(&Input::Text(long)));
    }

    #[test]
    fn submitting_shows_every_error_and_returns_nothing_until_all_are_valid() {
        let mut form = recipient_form();
        assert_eq!(form.submit(), None);
        assert!(form.refused());
        for field in [recipient::NAME, recipient::ID_NUMBER, recipient::CATEGORIES, recipient::VILLAGE_ID] {
            assert_eq!(form.error(field).map(|e| e.code), Some("required".into()), "{field}");
        }
        assert_eq!(form.error(recipient::PHONE), None, "optional");
        fill_valid(&mut form);
        let values = form.submit().expect("valid");
        assert!(!form.refused());
        assert_eq!(values.text(recipient::NAME), "王测试");
        assert_eq!(values.text(recipient::ID_NUMBER), "440524195801010018");
        assert_eq!(
            values.set_of::<RecipientCategory>(recipient::CATEGORIES),
            [RecipientCategory::Dibao, RecipientCategory::VulnerableElderly]
        );
        assert_eq!(values.id(recipient::VILLAGE_ID).map(|id| id.to_string()).as_deref(), Some(VILLAGE));
        assert_eq!(values.get(recipient::PHONE), &Value::Null);
        assert_eq!(values.text(recipient::PHONE), "");
    }

    #[test]
    fn unticking_a_choice_removes_it() {
        let mut form = recipient_form();
        form.toggle(recipient::CATEGORIES, "Dibao", true);
        form.toggle(recipient::CATEGORIES, "Disability", true);
        form.toggle(recipient::CATEGORIES, "Dibao", false);
        assert_eq!(form.input(recipient::CATEGORIES), Some(&Input::Choices(vec!["Disability".into()])));
        assert!(form.input(recipient::CATEGORIES).is_some_and(|i| i.has("Disability") && !i.has("Dibao")));
    }

    #[test]
    fn a_command_error_shows_at_its_field_until_the_field_is_edited() {
        let mut form = recipient_form();
        fill_valid(&mut form);
        assert!(form.submit().is_some());
        let refused =
            CommandError::new("reference", "所在村(社区)应为一条记录的编号", "Village must be the id of a record")
                .at_field(recipient::VILLAGE_ID);
        form.command_failed(Some(refused));
        assert_eq!(form.error(recipient::VILLAGE_ID).map(|e| e.code), Some("reference".into()));
        assert_eq!(form.form_error(), None);
        assert!(form.refused());
        form.set(recipient::NAME, Input::Text("王测试".into()));
        assert!(form.error(recipient::VILLAGE_ID).is_some(), "editing another field keeps it");
        form.set(recipient::VILLAGE_ID, Input::Text(VILLAGE.into()));
        assert_eq!(form.error(recipient::VILLAGE_ID), None);
    }

    #[test]
    fn a_command_error_about_no_field_of_the_form_is_the_forms() {
        let mut form = recipient_form();
        let offline = CommandError::new("internal", "操作失败", "The action failed");
        form.command_failed(Some(offline.clone()));
        assert_eq!(form.form_error(), Some(&offline));
        assert!(!form.refused());
        let elsewhere = CommandError::new("immutable", "x", "x").at_field(recipient::BIRTH_DATE);
        form.command_failed(Some(elsewhere.clone()));
        assert_eq!(form.form_error(), Some(&elsewhere));
    }

    fn stored(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    /// An edit form starts from the stored values, shows no error before the user acts, and
    /// gives back the same values when saved unchanged.
    #[test]
    fn a_form_starts_from_stored_values() {
        let initial = stored(&[
            (recipient::NAME, json!("王测试")),
            (recipient::ID_NUMBER, json!("440524195801010018")),
            (recipient::CATEGORIES, json!(["Dibao", "VulnerableElderly"])),
            (recipient::VILLAGE_ID, json!(VILLAGE)),
            (recipient::PHONE, json!("13800138000")),
            (field::STATION_ID, json!("not a field of the form")),
        ]);
        let mut form = FormState::with_initial(&recipient_form().specs().collect::<Vec<_>>(), today(), &initial);
        assert_eq!(form.input(recipient::NAME), Some(&Input::Text("王测试".into())));
        assert_eq!(
            form.input(recipient::CATEGORIES),
            Some(&Input::Choices(vec!["Dibao".into(), "VulnerableElderly".into()]))
        );
        assert_eq!(form.input(recipient::VILLAGE_ID), Some(&Input::Text(VILLAGE.into())));
        for field in FIELDS {
            assert_eq!(form.error(field), None, "{field}");
        }
        let values = form.submit().expect("stored values are valid");
        let sent = values.field_values();
        assert_eq!(
            sent.keys().map(String::as_str).collect::<Vec<_>>(),
            [recipient::CATEGORIES, recipient::ID_NUMBER, recipient::NAME, recipient::PHONE, recipient::VILLAGE_ID]
        );
        assert_eq!(sent[recipient::CATEGORIES], json!(["Dibao", "VulnerableElderly"]));
        assert_eq!(sent[recipient::PHONE], json!("13800138000"));
    }

    /// A field the record lacks starts empty; a required one is refused on save.
    #[test]
    fn a_form_missing_a_stored_value_starts_that_field_empty() {
        let initial = stored(&[(recipient::NAME, json!("王测试"))]);
        let mut form = FormState::with_initial(&recipient_form().specs().collect::<Vec<_>>(), today(), &initial);
        assert_eq!(form.input(recipient::PHONE), Some(&Input::Text(String::new())));
        assert_eq!(form.input(recipient::CATEGORIES), Some(&Input::Choices(Vec::new())));
        assert_eq!(form.error(recipient::ID_NUMBER), None);
        assert_eq!(form.submit(), None);
        assert_eq!(form.error(recipient::ID_NUMBER).map(|e| e.code), Some("required".into()));
    }

    /// (field type, stored value, the input it gives)
    #[test]
    fn stored_values_of_any_shape_become_inputs() {
        use domain::entity::FieldType as T;
        let text = T::Text { max_chars: 10 };
        let set = T::EnumSet(&["A", "B"]);
        let cases: Vec<(FieldType, Value, Input)> = vec![
            (text, json!("abc"), Input::Text("abc".into())),
            (text, Value::Null, Input::Text(String::new())),
            (text, json!(12), Input::Text("12".into())),
            (text, json!(["x"]), Input::Text("[\"x\"]".into())),
            (T::Integer { min: 0, max: 9 }, json!(3), Input::Text("3".into())),
            (T::Money { max_fen: 1_000_000 }, json!(120_050), Input::Text("1200.50".into())),
            (T::Money { max_fen: 1_000_000 }, json!("12.5"), Input::Text("12.5".into())),
            (T::Bool, json!(true), Input::Flag(true)),
            (T::Bool, json!("yes"), Input::Flag(false)),
            (set, json!(["B", "A"]), Input::Choices(vec!["B".into(), "A".into()])),
            (set, json!(["A", 1]), Input::Choices(vec!["A".into(), "1".into()])),
            (set, json!("A"), Input::Choices(vec!["A".into()])),
            (set, json!({"a": 1}), Input::Choices(vec!["{\"a\":1}".into()])),
        ];
        for (ty, value, expected) in cases {
            let input = Input::from_value(ty, &value);
            assert_eq!(input, expected, "{ty:?} {value}");
        }
    }

    /// A visit form: today's date to start with, the flag, and the values a draft is made of.
    #[test]
    fn visit_values_read_back_as_typed() {
        use domain::entity::VISIT;
        use domain::field::visit;
        let names =
            [visit::VISITED_ON, visit::PERSONS_SEEN, visit::OBSERVATIONS, visit::NEEDS_FOUND, visit::FOLLOW_UP_NEEDED];
        let specs: Vec<&'static FieldSpec> = names.iter().filter_map(|n| VISIT.field(n)).collect();
        let initial = stored(&[(visit::VISITED_ON, json!(today().to_string()))]);
        let mut form = FormState::with_initial(&specs, today(), &initial);
        assert_eq!(form.submit(), None, "observations are required");
        form.set(visit::OBSERVATIONS, Input::Text(" 老人身体尚可 ".into()));
        form.set(visit::FOLLOW_UP_NEEDED, Input::Flag(true));
        let values = form.submit().expect("valid");
        assert_eq!(values.date(visit::VISITED_ON), Some(today()));
        assert_eq!(values.text(visit::OBSERVATIONS), "老人身体尚可");
        assert!(values.flag(visit::FOLLOW_UP_NEEDED));
        assert_eq!(values.text(visit::PERSONS_SEEN), "");
        form.set(visit::VISITED_ON, Input::Text("2026-12-06".into()));
        assert_eq!(form.error(visit::VISITED_ON).map(|e| e.code), Some("date_in_future".into()));
        form.set(visit::OBSERVATIONS, Input::Text("走".repeat(10_000)));
        assert_eq!(form.error(visit::OBSERVATIONS).map(|e| e.code), Some("too_long".into()));
    }

    /// Whatever lands in a field, checking it never panics and what was typed stays.
    #[test]
    fn odd_inputs_never_panic() {
        let odd = ["", " ", "\u{3000}", "😀", "Ｘ", "\0", "a\u{301}", "-1", "9999-99-99", "13８00138000"];
        for spec in RECIPIENT.fields {
            for text in odd {
                let mut form = FormState::new(&[spec], today());
                let input = match Input::empty(spec.ty) {
                    Input::Text(_) => Input::Text(text.into()),
                    Input::Choices(_) => Input::Choices(vec![text.into()]),
                    Input::Flag(_) => Input::Flag(true),
                };
                form.set(spec.name, input.clone());
                form.leave(spec.name);
                let _ = form.error(spec.name);
                let _ = form.submit();
                assert_eq!(form.input(spec.name), Some(&input));
            }
        }
    }
}
