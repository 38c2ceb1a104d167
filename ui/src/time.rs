//! Dates and times as the user sees them: in the computer's local time zone (the shell stores
//! and sends UTC).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use contract::Language;
use wasm_bindgen::JsValue;

/// Today in the local time zone.
pub fn today() -> NaiveDate {
    let now = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(now.get_full_year() as i32, now.get_month() + 1, now.get_date()).unwrap_or_default()
}

/// Whole years between a date of birth and today.
pub fn age_on(birth_date: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth_date.year();
    if (today.month(), today.day()) < (birth_date.month(), birth_date.day()) {
        age -= 1;
    }
    age.max(0)
}

/// An instant in local time, written the way the language writes it.
pub fn local_date_time(at: DateTime<Utc>, language: Language) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let locale = match language {
        Language::Zh => "zh-CN",
        Language::En => "en-GB",
    };
    String::from(date.to_locale_string(locale, &JsValue::UNDEFINED))
}
